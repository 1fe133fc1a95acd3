using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Golden;

/// <summary>
/// The golden cases end to end: the kernel accepts our batch for every case, and `nft list ruleset` after our
/// commit equals `nft list ruleset` after `nft -f case.nft` in a second fresh namespace.
/// </summary>
public sealed class GoldenKernelTests
{
    [Theory]
    [MemberData(nameof(GoldenBytesTests.CaseNames), MemberType = typeof(GoldenBytesTests))]
    public async Task Kernel_accepts_our_batch_and_nft_lists_the_same_ruleset(string name)
    {
        using var ours = TestNamespace.Create();
        using var theirs = TestNamespace.Create();
        await using (var connection = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ours.Name }))
            await connection.CommitAsync(GoldenBytesTests.Cases[name]());
        theirs.Nft($"-f {Path.Combine(GoldenBytesTests.GoldenDirectory, name + ".nft")}");
        Assert.Equal(WithoutCountdown(theirs.Nft("list ruleset")), WithoutCountdown(ours.Nft("list ruleset")));
    }

    /// <summary>Element expiry counts down between the two listings: drop " expires ..." before comparing.</summary>
    private static string WithoutCountdown(string listing) =>
        System.Text.RegularExpressions.Regex.Replace(listing, @" expires [0-9a-z]+", "");
}
