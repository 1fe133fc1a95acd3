using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>
/// The plan is meant for <c>nft -f</c>: a policy file name or a string in the live table (written by anyone with
/// CAP_NET_ADMIN in the namespace) must not smuggle a command into it. The real nft is the oracle.
/// </summary>
public sealed class PlanInjectionTests
{
    private const string Policy = "version: 1\nlog:\n  prefix: \"DENIED: \"\negress:\n  allow:\n    - name: web\n      to: [192.0.2.10, \"2001:db8::10\"]\n      tcp: [443]\n";

    /// <summary>Runs the plan with the real nft in a fresh namespace holding a sentinel table; the tables afterwards.</summary>
    private static string TablesAfterRunning(string plan)
    {
        using var ns = TestNamespace.Create();
        ns.Nft("add table inet sentinel");
        ns.Nft("add chain inet sentinel out { type filter hook output priority 10 ; policy drop ; }");
        var result = TestNamespace.TryRun("ip", $"netns exec {ns.Name} nft -f /dev/stdin", plan);
        Assert.True(result.ExitCode == 0, plan + result.Stderr);
        Assert.DoesNotContain("accept", ns.Nft("list chain inet sentinel out"));
        return ns.Nft("list tables");
    }

    [Fact]
    public void AFileNameWithNewlinesStaysInsideItsCommentLine()
    {
        string directory = Directory.CreateTempSubdirectory("nlf-plan").FullName;
        try
        {
            string path = Path.Combine(directory, "p\nflush ruleset\ninsert rule inet sentinel out accept\n#.yaml");
            File.WriteAllText(path, Policy);
            using var empty = TestNamespace.Create();
            var plan = CliRunner.Run($"plan \"{path}\" --netns {empty.Name}");
            Assert.True(plan.ExitCode == 0, plan.Stderr);
            Assert.Contains(@"p\nflush ruleset\ninsert rule", plan.Stdout);
            Assert.Equal("table inet sentinel\ntable inet netlinkfence\n", TablesAfterRunning(plan.Stdout));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void ALiveRuleCommentWithNewlinesStaysInsideItsCommentLine()
    {
        string directory = Directory.CreateTempSubdirectory("nlf-plan").FullName;
        try
        {
            string path = Path.Combine(directory, "policy.yaml");
            File.WriteAllText(path, Policy);
            using var live = TestNamespace.Create();
            Assert.Equal(0, CliRunner.Run($"apply {path} --netns {live.Name}").ExitCode);
            // nft takes a newline inside a quoted string; the kernel stores whatever it is given.
            live.Nft("-f /dev/stdin", "add rule inet netlinkfence output drop comment \"x\nflush ruleset\ninsert rule inet sentinel out accept\n\"\n");

            var plan = CliRunner.Run($"plan {path} --netns {live.Name}");
            Assert.True(plan.ExitCode == 0, plan.Stderr);
            Assert.Contains("# applying this plan changes the live table", plan.Stdout);
            Assert.Contains(@"#   - chain output: rule # [ immediate reg 0 drop ] comment ""x\nflush ruleset\ninsert rule inet sentinel out accept\n""", plan.Stdout);
            Assert.Equal("table inet sentinel\ntable inet netlinkfence\n", TablesAfterRunning(plan.Stdout));

            // show prints the same rule as a comment line (a quoted string in nft syntax cannot hold a newline
            // without misleading whoever reads it), and the rest is still a valid nft file.
            var show = CliRunner.Run($"show --netns {live.Name}");
            Assert.True(show.ExitCode == 0, show.Stderr);
            Assert.Contains(@"# [ immediate reg 0 drop ] comment ""x\nflush ruleset\ninsert rule inet sentinel out accept\n"" (not nft syntax: rule comment: nft quoted strings have no escape for U+000A)", show.Stdout);
            Assert.Equal("table inet sentinel\ntable inet netlinkfence\n", TablesAfterRunning(show.Stdout));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
