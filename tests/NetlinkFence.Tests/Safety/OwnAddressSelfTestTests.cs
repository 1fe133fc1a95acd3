using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Safety;

/// <summary>
/// A <c>selftest:</c> flow to an address of the namespace itself (a service the agent host runs on its own interface)
/// goes over loopback, which every policy allows: the self-test passes it, and <c>lint --netns</c>, which reads the
/// namespace's interface addresses, agrees instead of calling it a flow every apply fails.
/// </summary>
public sealed class OwnAddressSelfTestTests : IDisposable
{
    /// <summary>A flow to the agent namespace's own address, where the test listens.</summary>
    private const string OwnFlow = AgentAndWorld.AgentV4 + ":8080";

    private readonly string _dir = Directory.CreateTempSubdirectory("nlf-own-address-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_flow_to_the_namespace_s_own_address_passes_the_self_test_and_lint_in_the_namespace_agrees()
    {
        using var net = new AgentAndWorld("203.0.113.50");
        net.ListenTcp(net.Agent, AgentAndWorld.AgentV4, 8080);
        string policy = Path.Combine(_dir, "policy.yaml");
        File.WriteAllText(policy, $"""
            version: 1
            log:
              prefix: "EGRESS-DENIED: "
            egress:
              allow:
                - name: control
                  to: [203.0.113.50]
                  tcp: [443]
            selftest:
              allow: ["tcp:{OwnFlow}"]
            """);

        // plan in the namespace knows the address too: the flow passes, as it will.
        var plan = CliRunner.Run($"plan {policy} --netns {net.Agent.Name}");
        Assert.True(plan.ExitCode == 0, plan.Stderr);
        Assert.Contains($"#   allow tcp:{OwnFlow}: {AgentAndWorld.AgentV4} is an address of this host, and traffic to it goes over loopback", plan.Stdout);
        Assert.DoesNotContain("WOULD FAIL", plan.Stdout);

        var apply = CliRunner.Run($"apply {policy} --netns {net.Agent.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stdout + apply.Stderr);
        Assert.Matches($@"selftest: tcp:{AgentAndWorld.AgentV4.Replace(".", @"\.")}:8080 +expected ALLOWED +got ALLOWED +\(connected\) ok", apply.Stdout);

        var inside = CliRunner.Run($"lint {policy} --netns {net.Agent.Name}");
        Assert.DoesNotContain("selftest-fails", inside.Stdout);
        // Where that address is not the host's (this test process's namespace), the flow would leave through the policy.
        var outside = CliRunner.Run($"lint {policy}");
        Assert.Contains($"selftest.allow 'tcp:{OwnFlow}': no permanent entry allows tcp/8080 to {AgentAndWorld.AgentV4}", outside.Stdout);
        Assert.Contains("[selftest-fails]", outside.Stdout);

        // A deny flow to that address gets through over loopback: refused before the commit, the table unchanged.
        string before = NftListing.Masked(net.Agent.Nft("-j list ruleset"));
        string leaking = Path.Combine(_dir, "leaking.yaml");
        File.WriteAllText(leaking, File.ReadAllText(policy).Replace("allow: [", "deny: ["));
        var refused = CliRunner.Run($"apply {leaking} --netns {net.Agent.Name}");
        Assert.Equal(5, refused.ExitCode);
        Assert.Contains($"selftest: tcp:{OwnFlow} must be denied, but the policy allows it: {AgentAndWorld.AgentV4} is an address of this host", refused.Stderr);
        Assert.Contains("nothing was changed", refused.Stderr);
        Assert.Equal(before, NftListing.Masked(net.Agent.Nft("-j list ruleset")));
    }
}
