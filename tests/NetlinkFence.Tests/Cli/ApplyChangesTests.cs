using System.Text.Json;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>
/// <c>plan</c> and <c>apply</c> list what applying the policy changes as a diff from the live table to the policy reads:
/// <c>+</c> what it adds, <c>-</c> what it removes (before: the other way round, as <c>verify</c> shows drift, so a
/// reviewer read an added rule as a removed one); JSON says <c>add</c> / <c>remove</c>.
/// </summary>
public sealed class ApplyChangesTests
{
    private const string Old = """
        version: 1
        egress:
          allow:
            - { name: old, to: [198.51.100.7], tcp: [443] }
        """;

    private const string New = """
        version: 1
        egress:
          allow:
            - { name: new, to: [203.0.113.50], tcp: [443] }
        """;

    [Fact]
    public void PlanAndApplyShowWhatTheyAddWithPlusAndWhatTheyRemoveWithMinus()
    {
        using var ns = TestNamespace.Create();
        string old = Write(Old), @new = Write(New);
        Assert.Equal(0, CliRunner.Run($"apply {old} --netns {ns.Name}").ExitCode);
        // Drift: a rule someone added by hand, which applying removes.
        ns.Nft("add rule inet netlinkfence output tcp dport 22 accept");

        var plan = CliRunner.Run($"plan {@new} --netns {ns.Name}");
        Assert.True(plan.ExitCode == 0, plan.Stderr);
        Assert.Contains("# applying this plan changes the live table (3; + added, - removed, ~ changed):", plan.Stdout);
        Assert.Matches(@"(?m)^#   \+ set allow_v4: element 203\.0\.113\.50 \. tcp \. 443 .*comment ""new""$", plan.Stdout);
        Assert.Matches(@"(?m)^#   - set allow_v4: element 198\.51\.100\.7 \. tcp \. 443 .*comment ""old""$", plan.Stdout);
        Assert.Matches(@"(?m)^#   - chain output: rule tcp dport 22 accept$", plan.Stdout);

        var json = CliRunner.Run($"plan {@new} --netns {ns.Name} --output json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        var actions = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("changes").EnumerateArray()
            .Select(c => $"{c.GetProperty("action").GetString()} {c.GetProperty("subject").GetString()}: {c.GetProperty("detail").GetString()}").ToList();
        Assert.Contains(actions, a => a.StartsWith("add set allow_v4: element 203.0.113.50 . tcp . 443", StringComparison.Ordinal));
        Assert.Contains(actions, a => a.StartsWith("remove set allow_v4: element 198.51.100.7 . tcp . 443", StringComparison.Ordinal));
        Assert.Contains("remove chain output: rule tcp dport 22 accept", actions);

        var apply = CliRunner.Run($"apply {@new} --netns {ns.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr);
        Assert.Contains("3 change(s) from the live table to the policy (+ added, - removed, ~ changed):", apply.Stdout);
        Assert.Matches(@"(?m)^  \+ set allow_v4: element 203\.0\.113\.50 \. tcp \. 443 .*comment ""new""$", apply.Stdout);
        Assert.Matches(@"(?m)^  - chain output: rule tcp dport 22 accept$", apply.Stdout);
        Assert.DoesNotContain("dport 22", ns.Nft("list ruleset"));
    }

    private static string Write(string text)
    {
        string path = TestScratch.PathFor("nlf-changes", ".yaml");
        File.WriteAllText(path, text);
        return path;
    }
}
