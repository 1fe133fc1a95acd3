using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>
/// An address range in <c>to:</c> is planned as the fewest networks that hold it, and <c>plan</c>'s comment names the
/// range as written, once, so a reviewer can match the rule to the policy; <c>nft</c> takes the plan as it is.
/// </summary>
public sealed class PlanAddressRangeTests
{
    [Fact]
    public void PlanNamesTheRangeOnceAndListsItsNetworksAsElements()
    {
        string path = TestScratch.PathFor("nlf-plan-range", ".yaml");
        File.WriteAllText(path, """
            version: 1
            egress:
              allow:
                - { name: provider, to: [198.51.100.8-198.51.100.20, 203.0.113.7], tcp: [443] }
            """);
        try
        {
            var plan = CliRunner.Run($"plan {path}");
            Assert.True(plan.ExitCode == 0, plan.Stderr);
            Assert.Matches(@"(?m)^\s*# from egress\.allow: 'provider' at .*:4:7: tcp 443 to 198\.51\.100\.8-198\.51\.100\.20, 203\.0\.113\.7$", plan.Stdout);
            foreach (string element in new[] { "198.51.100.8/29", "198.51.100.16/30", "198.51.100.20", "203.0.113.7" })
                Assert.Contains($"{element} . tcp . 443 comment \"provider\"", plan.Stdout);
            using var ns = TestNamespace.Create();
            var check = TestNamespace.TryRun("ip", $"netns exec {ns.Name} nft -c -f /dev/stdin", plan.Stdout);
            Assert.True(check.ExitCode == 0, check.Stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
