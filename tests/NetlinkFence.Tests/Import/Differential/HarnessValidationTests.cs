using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Import.Differential;

/// <summary>The matrix covers what the differential tests claim, and every flow of it is answered when nothing
/// filters: so a "denied" in a differential test is the firewall's verdict, never a missing listener.</summary>
public sealed class HarnessValidationTests
{
    [Fact]
    public void TheMatrixHoldsTwoHundredFlowsOfEveryKind()
    {
        var flows = FlowMatrix.Flows;
        Assert.True(flows.Count >= 200, $"{flows.Count} flows");
        Assert.Equal(flows.Count, flows.Distinct().Count());
        foreach (var direction in Enum.GetValues<FlowDirection>())
        {
            foreach (var protocol in Enum.GetValues<FlowProtocol>())
            {
                foreach (bool v6 in new[] { false, true })
                    Assert.Contains(flows, f => f.Direction == direction && f.Protocol == protocol && f.IsV6 == v6);
            }
        }
        // DNS to the resolvers of the rulesets, over both protocols and both families.
        foreach (string resolver in new[] { "192.168.1.10", "2001:db8::53" })
        {
            Assert.Contains(flows, f => f.Destination == resolver && f.Port == 53 && f.Protocol == FlowProtocol.Udp);
            Assert.Contains(flows, f => f.Destination == resolver && f.Port == 53 && f.Protocol == FlowProtocol.Tcp);
        }
    }

    [Fact]
    public async Task WithoutAFirewallEveryFlowIsAnswered()
    {
        using var open = FlowMatrix.OpenPair();
        var matrix = await VerdictMatrix.RunAsync(FlowMatrix.Flows, ("no firewall", open));
        if (matrix.AllowedIn(0) == matrix.Flows.Count)
            return;
        // One pair has nothing to compare with, so nothing was tried again: a machine slow enough to miss the first
        // deadline gets the longer one before a missing answer counts.
        var unanswered = matrix.Flows.Where(f => !matrix.Outcome(0, f).Allowed).ToList();
        var again = await FlowRunner.RunAsync(open, unanswered, TimeSpan.FromSeconds(12));
        Assert.True(again.All(o => o.Allowed), "unanswered twice without a firewall:\n"
            + string.Join("\n", unanswered.Select((f, i) => $"{f}: {again[i].Verdict}")) + "\n" + matrix.Render());
    }
}

/// <summary>The comparison can fail: one ruleset in both pairs agrees on every flow, and a ruleset that allows one
/// service less is reported, flow by flow, with the whole matrix.</summary>
public sealed class HarnessCanFailTests
{
    private const string SyslogRule = "-A OUTPUT -p tcp -d 192.168.1.20 --dport 6514 -j ACCEPT\n";

    [Fact]
    public async Task TheSameRulesetInBothPairsGetsTheSameVerdicts()
    {
        string seed = File.ReadAllText(Rulesets.PathOf("seed-egress-filter.rules"));
        string denied6 = File.ReadAllText(Rulesets.PathOf(Rulesets.IPv6Denied));
        var pairs = await DifferentialTrafficTest.OpenPairsAsync(2);
        try
        {
            foreach (var pair in pairs)
                Rulesets.LoadWithIptables(pair.Agent, seed, denied6);
            var matrix = await VerdictMatrix.RunAsync(FlowMatrix.Flows, ("iptables A", pairs[0]), ("iptables B", pairs[1]));
            Assert.True(matrix.Differing.Count == 0, matrix.Render());
            // The seed allows its three services (and nothing inbound) and denies the rest of the matrix.
            Assert.True(matrix.AllowedIn(0) == 3, matrix.Render());
        }
        finally
        {
            foreach (var pair in pairs)
                pair.Dispose();
        }
    }

    [Fact]
    public async Task ARulesetThatAllowsOneServiceLessIsReportedWithTheWholeMatrix()
    {
        string seed = File.ReadAllText(Rulesets.PathOf("seed-egress-filter.rules"));
        Assert.Contains(SyslogRule, seed);
        string denied6 = File.ReadAllText(Rulesets.PathOf(Rulesets.IPv6Denied));
        var pairs = await DifferentialTrafficTest.OpenPairsAsync(2);
        try
        {
            Rulesets.LoadWithIptables(pairs[0].Agent, seed, denied6);
            Rulesets.LoadWithIptables(pairs[1].Agent, seed.Replace(SyslogRule, ""), denied6);
            var matrix = await VerdictMatrix.RunAsync(FlowMatrix.Flows, ("seed", pairs[0]), ("seed without syslog", pairs[1]));
            string report = matrix.Render();

            var syslog = new Flow(FlowDirection.Outbound, FlowProtocol.Tcp, AgentAndWorld.AgentV4, "192.168.1.20", 6514);
            Assert.Equal(new[] { syslog }, matrix.Differing);
            Assert.True(matrix.Outcome(0, syslog).Allowed && !matrix.Outcome(1, syslog).Allowed, report);
            // The report is the whole matrix: every flow on its own line, the differing one marked.
            string[] lines = report.Split('\n');
            foreach (var flow in matrix.Flows)
                Assert.Contains(lines, line => line.StartsWith(flow.ToString() + " ", StringComparison.Ordinal));
            Assert.Single(lines, line => line.EndsWith("<<< DIFFERS", StringComparison.Ordinal));
            Assert.Contains(lines, line => line.StartsWith(syslog + " ", StringComparison.Ordinal) && line.EndsWith("<<< DIFFERS", StringComparison.Ordinal));
            Assert.Contains("1 judged differently", report);
        }
        finally
        {
            foreach (var pair in pairs)
                pair.Dispose();
        }
    }
}
