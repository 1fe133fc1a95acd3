using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.Kernel;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>
/// <c>demo</c> builds its policy in code; what it commits must be what the compiler makes of the same policy as a file,
/// so its base chains cannot drift from <c>apply</c>'s again (they did once: demo lacked the self-test mark rule).
/// </summary>
public sealed class CliDemoTests
{
    private static readonly string Example = Path.Combine(ApplyPolicyTests.RepositoryRoot(), "examples", "ironclaw-agent.yaml");

    [Fact]
    public async Task DemoCommitsWhatTheCompilerMakesOfTheExampleAndPrintsItAsNftLists()
    {
        using var ns = TestNamespace.Create();
        var demo = CliRunner.Run($"demo --netns {ns.Name}");
        Assert.True(demo.ExitCode == 0, demo.Stdout + demo.Stderr);

        // Read back over a connection of the test's own, compared with the example file compiled here.
        var compiled = PolicyCompiler.Compile(await ResolvedPolicy.ResolveAsync(PolicyLoader.LoadFile(Example), new FixedResolver()));
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var live = await nft.ListTableAsync(NftFamily.Inet, "netlinkfence");
        var differences = TableDiff.Compare(compiled.ToExpectedContents(), live);
        Assert.True(differences.Count == 0, string.Join("\n", differences));

        // nft as the oracle: the demo printed the table exactly as nft lists it, self-test mark rule included.
        string listed = ns.Nft("list table inet netlinkfence");
        Assert.Contains("meta mark 0x4e4c4654 counter", listed);
        Assert.EndsWith(listed, demo.Stdout, StringComparison.Ordinal);
        Assert.StartsWith("committed in one batch (", demo.Stdout, StringComparison.Ordinal);
    }
}
