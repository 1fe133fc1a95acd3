using System.Text.RegularExpressions;
using NetlinkFence.Tests.Kernel;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Policy;

/// <summary>
/// `plan` output is pinned by snapshots (the example and edge cases), is accepted by nft, and `nft -f` of it
/// builds exactly the ruleset `apply` builds. Set UPDATE_SNAPSHOTS=1 to rewrite the .plan files after a
/// deliberate change, then review the diff.
/// </summary>
public sealed partial class PlanSnapshotTests
{
    private static readonly string Root = ApplyPolicyTests.RepositoryRoot();
    private static readonly string SnapshotDirectory = Path.Combine(Root, "tests", "NetlinkFence.Tests", "Snapshots");

    public static TheoryData<string> Policies => new()
    {
        "examples/ironclaw-agent.yaml",
        "tests/NetlinkFence.Tests/Snapshots/ipv6-only.yaml",
        "tests/NetlinkFence.Tests/Snapshots/no-dns.yaml",
        "tests/NetlinkFence.Tests/Snapshots/ten-thousand.yaml",
    };

    [Theory]
    [MemberData(nameof(Policies))]
    public void PlanMatchesItsSnapshot(string policy)
    {
        using var ns = TestNamespace.Create();
        var result = CliRunner.Run($"plan {policy} --netns {ns.Name}", workingDirectory: Root);
        Assert.True(result.ExitCode == 0, result.Stderr);
        // The table's comment names the build (version and commit), which every commit changes: one placeholder.
        string plan = TableCommentLine().Replace(result.Stdout, "\tcomment \"netlinkfence BUILD\"\n", 1);
        Assert.NotEqual(result.Stdout, plan);
        string snapshot = Path.Combine(SnapshotDirectory, Path.GetFileNameWithoutExtension(policy) + ".plan");
        if (Environment.GetEnvironmentVariable("UPDATE_SNAPSHOTS") == "1")
            File.WriteAllText(snapshot, plan);
        Assert.True(File.Exists(snapshot), $"missing snapshot {snapshot}; run with UPDATE_SNAPSHOTS=1 and review it");
        Assert.Equal(File.ReadAllText(snapshot), plan);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void NftBuildsFromThePlanExactlyWhatApplyBuilds(string policy)
    {
        using var viaNft = TestNamespace.Create();
        using var viaApply = TestNamespace.Create();
        var plan = CliRunner.Run($"plan {policy} --netns {viaNft.Name}", workingDirectory: Root);
        Assert.Equal(0, plan.ExitCode);
        viaNft.Nft("-f -", plan.Stdout);
        var apply = CliRunner.Run($"apply {policy} --netns {viaApply.Name}", workingDirectory: Root);
        Assert.True(apply.ExitCode == 0, apply.Stderr);
        Assert.Equal(viaNft.Nft("list ruleset"), viaApply.Nft("list ruleset"));
    }

    [Fact]
    public void TenThousandDestinationsCostOneRule()
    {
        string plan = File.ReadAllText(Path.Combine(SnapshotDirectory, "ten-thousand.plan"));
        Assert.Single(plan.Split('\n'), line => line.Contains("@allow_v4"));
        Assert.Equal(10_000, plan.Split('\n').Count(line => line.Contains(". tcp . 443 comment \"fleet\"")));
    }

    [GeneratedRegex("\tcomment \"netlinkfence [^\"\n]*\"\n")]
    private static partial Regex TableCommentLine();
}
