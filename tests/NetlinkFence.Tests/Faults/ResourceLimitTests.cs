using System.Diagnostics;
using System.Text.Json;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Faults;

/// <summary>
/// Issue 5, "Resource limits": a policy with one entry of 100,000 destinations goes all the way through the
/// loader, compiler and PolicyApplier (batch split over many messages, read back and verified), and the set
/// dumps completely, through our reader and through nft. (Lost error replies, ENOBUFS, are covered by
/// Kernel/PermissionTests.LostErrorRepliesAreNeverMisreadAsSuccess.)
/// </summary>
public sealed class ResourceLimitTests(ITestOutputHelper output)
{
    private const int Count = 100_000;

    [Fact]
    public async Task AHundredThousandDestinationPolicyAppliesAndDumpsCompletely()
    {
        using var ns = TestNamespace.Create();
        var sw = Stopwatch.StartNew();
        string yaml = FaultPolicies.Yaml(7, Count);
        var policy = PolicyLoader.Load(yaml, "big.yaml");
        Assert.Equal(Count, policy.Egress[0].Peers.Count);
        var compiled = PolicyCompiler.Compile(await ResolvedPolicy.ResolveAsync(policy, new FixedResolver()));
        double compileMs = sw.Elapsed.TotalMilliseconds;
        var set = compiled.Sets.Single(s => s.Set.Name == "allow_v4");
        Assert.Equal(Count, set.Elements.Count(e => e.Comment == "variant-7")); // and marker-7's element

        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        // Something to replace first, so the big apply is a replacement.
        await PolicyApplier.ApplyAsync(nft, FaultPolicies.Compile(FaultPolicies.Yaml(1, 10)));
        sw.Restart();
        var result = await PolicyApplier.ApplyAsync(nft, compiled); // verifies by reading it back
        double applyMs = sw.Elapsed.TotalMilliseconds;
        Assert.True(result.Commit.Messages > 10, $"expected the elements split over many messages, got {result.Commit.Messages}");

        sw.Restart();
        var live = await nft.ListTableAsync(NftFamily.Inet, "netlinkfence");
        double dumpMs = sw.Elapsed.TotalMilliseconds;
        Assert.Empty(TableDiff.Compare(compiled.ToExpectedContents(), live));
        Assert.Equal(Count, live!.Sets.Single(s => s.Set.Name == set.Set.Name).Elements.Count(e => !e.IntervalEnd && e.Comment == "variant-7"));

        using var json = JsonDocument.Parse(ns.Nft($"-j list set inet netlinkfence {set.Set.Name}"));
        int nftCount = json.RootElement.GetProperty("nftables").EnumerateArray()
            .Where(i => i.TryGetProperty("set", out _)).Select(i => i.GetProperty("set").GetProperty("elem").GetArrayLength()).Single();
        Assert.Equal(Count + 1, nftCount); // and marker-7's element: one allow set for every entry
        output.WriteLine($"{Count} destinations: load+compile {compileMs:0} ms; apply {applyMs:0} ms ({result.Commit.Messages} messages, "
            + $"{result.Commit.Bytes} bytes, commit {result.Commit.Elapsed.TotalMilliseconds:0} ms, verified by read-back); dump {dumpMs:0} ms; nft lists {nftCount}");
    }
}
