using System.Net;
using System.Net.Sockets;
using NetlinkFence.Cli;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Policy;
using static NetlinkFence.Tests.Policy.PolicyTestSupport;

namespace NetlinkFence.Tests.Policy;

/// <summary>
/// <c>egress.deny</c>: drop (the default) or reject. What the file and the builder accept, what egress_denied compiles
/// to, and how a probe's EHOSTUNREACH/EACCES is judged with and without the policy's counter behind it. The traffic is
/// in <c>Traffic.RejectedEgressTests</c>.
/// </summary>
public sealed class EgressDenyTests
{
    private const string Yaml = """
        version: 1
        egress:
          deny: reject
          allow:
            - { name: web, to: [203.0.113.50], tcp: [443] }
        """;

    private static CompiledPolicy Compile(EgressPolicy policy) =>
        PolicyCompiler.Compile(ResolvedPolicy.ResolveAsync(policy, new NoDns()).GetAwaiter().GetResult());

    private static IReadOnlyList<Expression> FinalRule(CompiledPolicy compiled, string chain) =>
        compiled.Rules.Last(r => r.Rule.Chain == chain).Rule.Expressions;

    [Fact]
    public void The_file_and_the_builder_give_the_same_policy_and_drop_is_the_default()
    {
        var loaded = PolicyLoader.Load(Yaml, FileName);
        Assert.Equal(DenyAction.Reject, loaded.EgressDeny);
        var built = new PolicyBuilder().EgressDeny(DenyAction.Reject).AllowEgress("web", ["203.0.113.50"], tcp: [443]).Build();
        Assert.Equal(loaded, built);
        Assert.NotEqual(loaded, new PolicyBuilder().AllowEgress("web", ["203.0.113.50"], tcp: [443]).Build());
        Assert.Equal(DenyAction.Drop, PolicyLoader.Load(Yaml.Replace("deny: reject", "deny: drop"), FileName).EgressDeny);
        Assert.Equal(DenyAction.Drop, PolicyLoader.Load(Yaml.Replace("  deny: reject\n", ""), FileName).EgressDeny);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PolicyBuilder().EgressDeny((DenyAction)7));
    }

    [Theory]
    [InlineData("deny: refuse", 3, 9)]
    [InlineData("deny: Reject", 3, 9)]
    public void Anything_but_drop_or_reject_is_a_located_error(string line, int row, int column)
    {
        var d = Only(Yaml.Replace("deny: reject", line), "bad-deny", row, column);
        Assert.Contains("'drop'", d.Fix);
        Assert.Contains("'reject'", d.Fix);
    }

    [Fact]
    public void Reject_ends_egress_denied_in_a_counted_admin_prohibited_and_leaves_input_a_drop()
    {
        var compiled = Compile(PolicyLoader.Load(Yaml, FileName));
        var egress = FinalRule(compiled, PolicyCompiler.EgressDeniedChain);
        Assert.IsType<CounterExpression>(egress[0]);
        Assert.Equal(new RejectExpression(RejectType.IcmpxUnreachable, 3), Assert.IsType<RejectExpression>(egress[1])); // NFT_REJECT_ICMPX_ADMIN_PROHIBITED
        Assert.Equal(2, egress.Count);
        Assert.Equal(Nftables.Verdict.Drop, Assert.IsType<ImmediateExpression>(FinalRule(compiled, "ingress_denied")[1]).Verdict);
        string plan = NetlinkFence.Cli.Rendering.Plan(compiled, FileName);
        Assert.Contains("counter packets 0 bytes 0 reject with icmpx admin-prohibited", plan);
        Assert.Contains("everything else is logged and rejected", plan);

        var dropped = Compile(PolicyLoader.Load(Yaml.Replace("  deny: reject\n", ""), FileName));
        Assert.Equal(Nftables.Verdict.Drop, Assert.IsType<ImmediateExpression>(FinalRule(dropped, PolicyCompiler.EgressDeniedChain)[1]).Verdict);
    }

    [Fact]
    public void Why_a_flow_is_denied_says_rejected_under_reject()
    {
        var compiled = Compile(PolicyLoader.Load(Yaml, FileName));
        Assert.Equal("no entry allows 198.51.100.7: logged and rejected by egress_denied",
            FlowExplainer.Explain(compiled, ProtocolType.Tcp, IPAddress.Parse("198.51.100.7"), 443).Reason);
    }

    [Theory]
    [InlineData(1, "Denied", "unreachable (EHOSTUNREACH): rejected by this policy, egress_denied probe count +1")]
    [InlineData(0, "Inconclusive", "unreachable (EHOSTUNREACH), not the firewall")]
    public void An_unreachable_probe_is_this_policy_s_reject_only_when_its_counter_rose(ulong probes, string verdict, string evidence)
    {
        var result = new ProbeResult(ExpectedFlow.Parse("tcp:198.51.100.7:443"), ProbeSignal.NotTheFirewall, "unreachable (EHOSTUNREACH)");
        var (got, said) = ProbeJudge.Judge(result, new DeniedDelta(probes, 0), null, anyLocalFirewall: false);
        Assert.Equal(verdict, got.ToString());
        Assert.Equal(evidence, said);
        // Unmarked probes cannot show in the counter: a rise is someone else's.
        Assert.Equal(Verdict.Inconclusive, ProbeJudge.Judge(result with { Unmarked = "probe not marked (EPERM)" }, new DeniedDelta(1, 0), null, false).Verdict);
    }

    [Theory]
    [InlineData("", "dropped")]
    [InlineData("  deny: reject\n", "rejected (egress) or dropped (input)")]
    public void Lint_words_what_happens_to_denied_packets_as_the_policy_does_it(string deny, string denied)
    {
        string yaml = $"version: 1\nlog: {{ prefix: \"EGRESS-DENIED: \" }}\negress:\n{deny}  allow:\n    - {{ name: web, to: [203.0.113.50], tcp: [443] }}\n";
        var finding = Assert.Single(PolicyLinter.Lint(PolicyLoader.Load(yaml, FileName)), d => d.Code == "no-log-rate");
        Assert.Equal($"add 'rate: 10/second' under log: (packets are still all {denied}; only log lines are limited)", finding.Fix);

        var silent = PolicyLinter.Lint(PolicyLoader.Load(yaml.Replace("log: { prefix: \"EGRESS-DENIED: \" }\n", "", StringComparison.Ordinal), FileName));
        Assert.Equal($"denied packets are {denied} without a log line", Assert.Single(silent, d => d.Code == "no-log-prefix").Message);
    }
}
