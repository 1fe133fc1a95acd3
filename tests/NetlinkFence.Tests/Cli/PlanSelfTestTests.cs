using System.Text.Json;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>
/// <c>plan</c> lists the policy's self-test with the verdict the compiled policy gives each flow, so a reviewer sees
/// before any commit which flow would fail the test and roll the apply back; the plan stays a valid <c>nft -f</c> file.
/// </summary>
public sealed class PlanSelfTestTests
{
    private const string Policy = """
        version: 1
        hosts:
          api.example: [203.0.113.50]
          mirror.example: [198.51.100.80]
        log:
          prefix: "DENIED: "
        egress:
          allow:
            - { name: control, to: [api.example], tcp: [443] }
            - { name: updates, to: [mirror.example], tcp: [443], window: 30m }
        selftest:
          allow: ["api.example:443", "mirror.example:443"]
          deny: ["203.0.113.50:8443", "203.0.113.50:443"]

        """;

    [Fact]
    public void PlanShowsEachSelfTestFlowWithTheVerdictOfThePolicyAndWhichWouldFail()
    {
        string path = TestScratch.PathFor("nlf-plan-selftest", ".yaml");
        File.WriteAllText(path, Policy);
        try
        {
            using var ns = TestNamespace.Create();
            var plan = CliRunner.Run($"plan {path} --netns {ns.Name}");
            Assert.True(plan.ExitCode == 0, plan.Stderr);
            Assert.Contains("# self-test after apply (4 flows, tried from inside the namespace; a failure puts the previous table back): 2 WOULD FAIL against this plan", plan.Stdout);
            Assert.Matches(@"(?m)^#   allow api\.example:443 \(203\.0\.113\.50\): allow entry 'control' at .*:9:7$", plan.Stdout);
            Assert.Matches(@"(?m)^#   allow mirror\.example:443 \(198\.51\.100\.80\): window entry 'updates' .* -- FAILS: the test expects it allowed$", plan.Stdout);
            Assert.Matches(@"(?m)^#   deny  tcp:203\.0\.113\.50:8443: 203\.0\.113\.50 is allowed, but not tcp/8443: .*dropped by egress_denied$", plan.Stdout);
            Assert.Matches(@"(?m)^#   deny  tcp:203\.0\.113\.50:443: allow entry 'control' .* -- FAILS: the test expects it denied \(apply refuses the policy before the commit\)$", plan.Stdout);
            var check = TestNamespace.TryRun("ip", $"netns exec {ns.Name} nft -c -f /dev/stdin", plan.Stdout);
            Assert.True(check.ExitCode == 0, check.Stderr);

            var json = CliRunner.Run($"plan {path} --netns {ns.Name} --output json");
            Assert.True(json.ExitCode == 0, json.Stderr);
            var flows = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("selftest").EnumerateArray()
                .Select(f => (f.GetProperty("expect").GetString(), f.GetProperty("written").GetString(), f.GetProperty("flow").GetString(), f.GetProperty("as_expected").GetBoolean()))
                .ToList();
            Assert.Equal(
                [
                    ("allow", "api.example:443", "tcp:203.0.113.50:443", true), ("allow", "mirror.example:443", "tcp:198.51.100.80:443", false),
                    ("deny", "tcp:203.0.113.50:8443", "tcp:203.0.113.50:8443", true), ("deny", "tcp:203.0.113.50:443", "tcp:203.0.113.50:443", false),
                ],
                flows);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
