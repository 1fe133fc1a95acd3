using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Scope;

/// <summary>Bad <c>by:</c> values are located errors (file:line:column), exit 2, and nothing is applied.</summary>
public sealed class ScopeBadInputTests
{
    [Theory]
    [InlineData("{ unit: ../etc/passwd }", "contains '/'", 7)]
    [InlineData("{ unit: a..b.service }", "contains '..'", 7)]
    [InlineData("{ cgroup: /sys/fs/cgroup/cpu/x }", "outside the cgroup2 mount", 11)]
    [InlineData("{ cgroup: /a/../b }", "'.' or '..'", 7)]
    [InlineData("{ user: nosuchuser-nlf }", "does not exist", 11)]
    [InlineData("{ unit: nosuch-nlf.service }", "has no cgroup", 11)]
    [InlineData("{ unit: chrony.service, when_absent: open }", "when_absent", 11)]
    [InlineData("[]", "allow nobody", 11)]
    public void ByIsRefusedWithItsLocationAndNothingIsApplied(string by, string message, int column)
    {
        using var ns = TestNamespace.Create();
        var dir = Directory.CreateTempSubdirectory("nlf-scope-bad-");
        try
        {
            string policy = Path.Combine(dir.FullName, "bad.yaml");
            File.WriteAllText(policy, $"version: 1\negress:\n  allow:\n    - name: web\n      to: [192.0.2.1]\n      tcp: [443]\n      by: {by}\n");
            var (exit, stdout, stderr) = CliRunner.Run($"apply {policy} --netns {ns.Name}");
            Assert.True(exit == 2, $"exit {exit}\n{stdout}{stderr}");
            Assert.Contains(message, stderr, StringComparison.Ordinal);
            Assert.Matches(@"bad\.yaml:7:\d+", stderr);
            Assert.DoesNotContain("netlinkfence", ns.Nft("list tables"), StringComparison.Ordinal);
            _ = column;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void ByOnAnInputEntryIsRefusedWithWhy()
    {
        var e = Assert.Throws<NetlinkFence.Policy.PolicyException>(() => NetlinkFence.Policy.PolicyLoader.Load(
            "version: 1\ninput:\n  allow:\n    - { tcp: [22], by: { user: root } }\n", "in.yaml"));
        Assert.Contains(e.Diagnostics, d => d.Location.Line == 4 && d.Message.Contains("input entries cannot have", StringComparison.Ordinal));
    }
}
