using Xunit;

namespace NetlinkFence.IntegrationTests;

/// <summary>
/// The example policy applied inside the agent container, checked with real traffic to the world containers. The
/// allowed flows go to listeners, so under the policy they must be "connected" / "answered", not just "port closed".
/// </summary>
public abstract class EgressPolicyTests<TTopology>(TTopology topology) : IClassFixture<TTopology> where TTopology : Topology
{
    private static readonly string[] Reached = ["connected", "answered"];

    private static void AssertReached(Run probe, string flow)
    {
        var (verdict, detail) = Topology.Outcome(probe, flow);
        Assert.True(verdict == "ALLOWED" && Reached.Contains(detail), $"{flow} should reach its listener, got {verdict} ({detail})\n{probe}");
    }

    /// <summary>ALLOWED: a listener answered, or the host itself refused (RST / port unreachable came back).</summary>
    private static void AssertPassed(Run probe, string flow)
    {
        var (verdict, detail) = Topology.Outcome(probe, flow);
        Assert.True(verdict == "ALLOWED", $"{flow} should get through, got {verdict} ({detail})\n{probe}");
    }

    private static void AssertDenied(Run probe, string flow)
    {
        var (verdict, detail) = Topology.Outcome(probe, flow);
        Assert.True(verdict == "DENIED", $"{flow} should be denied, got {verdict} ({detail})\n{probe}");
    }

    [Fact]
    public void Before_apply_every_flow_gets_through()
    {
        foreach (string flow in topology.AllowedFlows.Concat(topology.DeniedFlows))
            AssertPassed(topology.ProbeBefore, flow);
    }

    [Fact]
    public void Apply_of_the_rendered_example_exits_0()
    {
        Assert.True(topology.FirstApply.ExitCode == 0, topology.FirstApply.ToString());
        Assert.Contains("verified by reading it back", topology.FirstApply.Stdout);
    }

    [Fact]
    public void The_IronClaw_API_on_443_connects() => AssertReached(topology.ProbeEnforced, $"tcp:{topology.ApiAddress}:443");

    [Fact]
    public void DNS_to_the_resolver_answers_over_udp_and_tcp()
    {
        AssertReached(topology.ProbeEnforced, $"udp:{topology.ResolverAddress}:53");
        AssertReached(topology.ProbeEnforced, $"tcp:{topology.ResolverAddress}:53");
    }

    [Fact]
    public void The_syslog_collector_on_6514_connects() => AssertReached(topology.ProbeEnforced, $"tcp:{topology.CollectorAddress}:6514");

    [Fact]
    public void Port_8443_on_the_allowed_API_host_is_denied() => AssertDenied(topology.ProbeEnforced, $"tcp:{topology.ApiAddress}:8443");

    [Fact]
    public void DNS_to_a_non_resolver_is_denied()
    {
        AssertDenied(topology.ProbeEnforced, $"udp:{topology.UnlistedAddress}:53");
        AssertDenied(topology.ProbeEnforced, $"tcp:{topology.UnlistedAddress}:53");
        AssertDenied(topology.ProbeEnforced, $"udp:{topology.ApiAddress}:53");
    }

    [Fact]
    public void Everything_to_the_unlisted_host_is_denied()
    {
        foreach (string port in new[] { "443", "8443", "6514" })
            AssertDenied(topology.ProbeEnforced, $"tcp:{topology.UnlistedAddress}:{port}");
    }

    [Fact]
    public void The_collector_on_another_port_is_denied() => AssertDenied(topology.ProbeEnforced, $"tcp:{topology.CollectorAddress}:443");

    [Fact]
    public void The_egress_denied_counter_shows_the_denied_attempts()
    {
        Assert.True(topology.ShowAfterApply.ExitCode == 0, topology.ShowAfterApply.ToString());
        Assert.Equal(0L, Topology.EgressDeniedPackets(topology.ShowAfterApply));
        long packets = Topology.EgressDeniedPackets(topology.ShowAfterProbes);
        Assert.True(packets >= topology.DeniedFlows.Length,
            $"{topology.DeniedFlows.Length} denied attempts, but egress_denied counted {packets} packets\n{topology.ShowAfterProbes}");
    }

    [Fact]
    public void Denials_are_logged_with_the_configured_prefix() =>
        Assert.Matches(@"chain egress_denied \{[^}]*log prefix ""EGRESS-DENIED: """, topology.ShowAfterProbes.Stdout);

    [Fact]
    public void With_an_NFLOG_group_each_denial_is_read_back_with_the_prefix()
    {
        Assert.True(topology.NflogApply.ExitCode == 0, topology.NflogApply.ToString());
        foreach (string flow in topology.NflogDeniedFlows)
            AssertDenied(topology.NflogProbe, flow);
        Assert.True(topology.NflogReader.ExitCode == 0 && topology.NflogReader.Stdout.StartsWith("ready", StringComparison.Ordinal), topology.NflogReader.ToString());
        int logged = topology.NflogReader.Stdout.Split('\n').Count(l => l == "nflog prefix=EGRESS-DENIED: ");
        Assert.True(logged >= topology.NflogDeniedFlows.Length,
            $"{topology.NflogDeniedFlows.Length} denied flows, {logged} NFLOG records with the prefix\n{topology.NflogReader}\n{topology.NflogProbe}");
    }

    [Fact]
    public void A_second_apply_leaves_the_ruleset_unchanged()
    {
        Assert.True(topology.SecondApply.ExitCode == 0, topology.SecondApply.ToString());
        Assert.Contains("already matched the policy", topology.SecondApply.Stdout);
        Assert.Equal(Topology.WithoutCounterValues(topology.ShowAfterApply.Stdout), Topology.WithoutCounterValues(topology.ShowAfterSecondApply.Stdout));
    }

    [Fact]
    public void Verify_exits_0_while_the_table_is_intact()
    {
        Assert.True(topology.VerifyIntact.ExitCode == 0, topology.VerifyIntact.ToString());
    }

    [Fact]
    public void Verify_exits_1_after_another_program_inserted_a_rule()
    {
        Assert.True(topology.ForeignTamper.ExitCode == 0, topology.ForeignTamper.ToString());
        AssertReached(topology.ProbeAfterForeignTamper, $"tcp:{topology.ApiAddress}:8443");   // the tamper really opened 8443
        Assert.True(topology.VerifyAfterForeignTamper.ExitCode == 1, topology.VerifyAfterForeignTamper.ToString());
        Assert.Contains("tampered", topology.VerifyAfterForeignTamper.Stdout);                 // the diff names the foreign rule
    }

    [Fact]
    public void Apply_repairs_the_tampered_table()
    {
        Assert.True(topology.RepairApply.ExitCode == 0, topology.RepairApply.ToString());
        Assert.True(topology.VerifyAfterRepair.ExitCode == 0, topology.VerifyAfterRepair.ToString());
        AssertDenied(topology.ProbeAfterRepair, $"tcp:{topology.ApiAddress}:8443");
    }

    [Fact]
    public void Verify_exits_1_after_a_wider_policy_was_applied_over_it()
    {
        Assert.True(topology.TamperApply.ExitCode == 0, topology.TamperApply.ToString());
        AssertReached(topology.ProbeTampered, $"tcp:{topology.ApiAddress}:8443");   // the tamper really opened 8443
        Assert.True(topology.VerifyTampered.ExitCode == 1, topology.VerifyTampered.ToString());
    }

    [Fact]
    public void Remove_restores_open_egress()
    {
        Assert.True(topology.Remove.ExitCode == 0, topology.Remove.ToString());
        Assert.NotEqual(0, topology.ShowAfterRemove.ExitCode);
        Assert.Contains("does not exist", topology.ShowAfterRemove.Stdout + topology.ShowAfterRemove.Stderr);
        foreach (string flow in topology.AllowedFlows.Concat(topology.DeniedFlows))
            AssertPassed(topology.ProbeAfterRemove, flow);
    }
}

/// <summary>The agent container runs privileged, the way users are told to run it.</summary>
public sealed class PrivilegedAgentTests(PrivilegedAgent topology) : EgressPolicyTests<PrivilegedAgent>(topology);

/// <summary>The agent container has only CAP_NET_ADMIN added (least privilege).</summary>
public sealed class NetAdminAgentTests(NetAdminAgent topology) : EgressPolicyTests<NetAdminAgent>(topology);
