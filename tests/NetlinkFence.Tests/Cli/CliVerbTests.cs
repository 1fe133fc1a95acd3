using NetlinkFence.Tests.Kernel;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>plan, show, verify and lint as a user runs them.</summary>
public sealed class CliVerbTests
{
    private static readonly string Example = Path.Combine(ApplyPolicyTests.RepositoryRoot(), "examples", "ironclaw-agent.yaml");

    [Fact]
    public void VerifyIsZeroAfterApplyAndOneWithADiffAfterTampering()
    {
        using var ns = TestNamespace.Create();
        Assert.Equal(1, CliRunner.Run($"verify {Example} --netns {ns.Name}").ExitCode); // nothing applied yet
        var none = CliRunner.Run($"verify {Example} --netns {ns.Name} --output json");
        using (var empty = System.Text.Json.JsonDocument.Parse(none.Stdout))
            Assert.Equal(System.Text.Json.JsonValueKind.Null, empty.RootElement.GetProperty("generation").ValueKind);
        Assert.Equal(0, CliRunner.Run($"apply {Example} --netns {ns.Name}").ExitCode);
        var clean = CliRunner.Run($"verify {Example} --netns {ns.Name}");
        Assert.True(clean.ExitCode == 0, clean.Stdout + clean.Stderr);
        Assert.Contains("matches", clean.Stdout);
        // The JSON says what the text says: table, file, generation (the one the text names) and sizes.
        var cleanJson = CliRunner.Run($"verify {Example} --netns {ns.Name} --output json");
        Assert.Equal(0, cleanJson.ExitCode);
        using (var matching = System.Text.Json.JsonDocument.Parse(cleanJson.Stdout))
        {
            var root = matching.RootElement;
            Assert.True(root.GetProperty("matches").GetBoolean());
            Assert.Equal("netlinkfence", root.GetProperty("table").GetString());
            Assert.Equal(Example, root.GetProperty("policy").GetString());
            Assert.Contains($"generation {root.GetProperty("generation").GetUInt32()})", clean.Stdout);
            Assert.Contains($"({root.GetProperty("rules").GetInt32()} rules, {root.GetProperty("set_elements").GetInt32()} set elements,", clean.Stdout);
        }

        ns.Nft("add chain inet netlinkfence output { type filter hook output priority filter ; policy accept ; }");
        ns.Nft("add element inet netlinkfence allow_v4 { 10.9.9.9 . tcp . 22 }");
        var drift = CliRunner.Run($"verify {Example} --netns {ns.Name}");
        Assert.Equal(1, drift.ExitCode);
        Assert.Contains("~ chain output", drift.Stdout);
        Assert.Contains("policy accept", drift.Stdout);
        Assert.Contains("+ set allow_v4: element 10.9.9.9 . tcp . 22", drift.Stdout);
        // The fix it prints acts where verify looked: without --netns it would apply the policy to the host itself.
        Assert.Contains($"run `netlinkfence apply {Example} --netns {ns.Name}` to restore the policy", drift.Stdout);

        var json = CliRunner.Run($"verify {Example} --netns {ns.Name} --output json");
        Assert.Equal(1, json.ExitCode);
        using var document = System.Text.Json.JsonDocument.Parse(json.Stdout);
        Assert.False(document.RootElement.GetProperty("matches").GetBoolean());
        Assert.Equal(2, document.RootElement.GetProperty("differences").GetArrayLength());
    }

    [Fact]
    public void ShowPrintsTheLiveTableAsNftDoes()
    {
        using var ns = TestNamespace.Create();
        Assert.Equal(1, CliRunner.Run($"show --netns {ns.Name}").ExitCode);
        var missing = CliRunner.Run($"show --netns {ns.Name} --output json");
        Assert.Equal(1, missing.ExitCode);
        using (var json = System.Text.Json.JsonDocument.Parse(missing.Stdout))
            Assert.Contains("table inet netlinkfence does not exist", json.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(0, CliRunner.Run($"apply {Example} --netns {ns.Name}").ExitCode);
        var show = CliRunner.Run($"show --netns {ns.Name}");
        Assert.Equal(0, show.ExitCode);
        Assert.Equal(ns.Nft("list table inet netlinkfence"), show.Stdout);
    }

    [Theory]
    [InlineData("plan", true)]
    [InlineData("apply", true)]
    [InlineData("show", true)]
    [InlineData("verify", true)]
    [InlineData("lint", true)]
    [InlineData("hosts", true)]
    [InlineData("stats", true)]
    [InlineData("open", true)]
    [InlineData("status", true)]
    [InlineData("history", true)]
    [InlineData("learn", true)]
    [InlineData("watch", true)]
    [InlineData("collectors", true)]
    [InlineData("remove", false)]
    [InlineData("confirm", false)]
    [InlineData("rollback", false)]
    [InlineData("close", false)]
    [InlineData("probe", false)]
    [InlineData("demo", false)]
    [InlineData("run", false)]
    [InlineData("reload", false)]
    public void OnlyTheVerbsThatWriteJsonTakeOutputJson(string verb, bool writesJson)
    {
        var help = CliRunner.Run($"{verb} --help");
        Assert.Equal(0, help.ExitCode);
        Assert.Equal(writesJson, help.Stdout.Contains("--output <json|text>", StringComparison.Ordinal));
        if (!writesJson)
        {
            // Asked for JSON it never writes, it says so instead of printing text the caller cannot parse.
            var refused = CliRunner.Run($"{verb} --output json");
            Assert.Equal(2, refused.ExitCode);
            Assert.Matches("'(--output|json)'", refused.Stderr); // unrecognized, or not an argument the verb takes
            // Before the verb, on the root, it is refused too, not ignored.
            string arguments = verb switch { "close" => " updates", "probe" => " tcp:192.0.2.1:80", "run" => " policy.yaml", _ => "" };
            // Unprivileged in a fresh namespace: were it not refused, the verb could touch nothing of the host's.
            var before = CliRunner.RunUnprivileged($"--output json {verb}{arguments}");
            Assert.Equal(2, before.ExitCode);
            Assert.Equal($"netlinkfence: {verb} writes text only; --output json applies to plan, apply, show, verify, lint, hosts, open, status, history, stats, watch, collectors, learn",
                before.Stderr.Trim());
            Assert.Equal(0, CliRunner.Run($"--output json {verb} --help").ExitCode);
        }
    }

    [Fact]
    public void PlanNeedsNoPrivilege()
    {
        var plan = CliRunner.RunUnprivileged($"plan {Example}");
        Assert.True(plan.ExitCode == 0, plan.Stderr);
        Assert.Contains("table inet netlinkfence {", plan.Stdout);
        Assert.Contains("live table not compared", plan.Stdout);
    }

    [Fact]
    public void LintFindsTheSeedsPitfallsAndPassesTheExample()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nlf-weak-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "version: 1\negress:\n  dns:\n    resolvers: [0.0.0.0/0]\n  allow:\n    - name: all\n      to: [0.0.0.0/0]\n      tcp: [443]\n");
        try
        {
            var weak = CliRunner.Run($"lint {path}");
            Assert.Equal(1, weak.ExitCode);
            Assert.Contains($"{path}:4:17: error: DNS is allowed to any address", weak.Stdout);
            Assert.Contains("[allow-any-destination]", weak.Stdout);
            Assert.Contains("[no-log-prefix]", weak.Stdout);
        }
        finally
        {
            File.Delete(path);
        }
        var clean = CliRunner.Run($"lint {Example}");
        Assert.Equal(0, clean.ExitCode);
        Assert.Contains("no findings", clean.Stdout);
    }
}
