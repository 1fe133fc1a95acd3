using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Policy;
using static NetlinkFence.Tests.Policy.PolicyTestSupport;

namespace NetlinkFence.Tests.Policy;

/// <summary>
/// Every denial goes to an NFLOG group (log.group, 100 when unset) besides the kernel log, so `watch` works in any
/// namespace; one limit expression ahead of both log statements rate-limits both, and a counter after it counts what
/// it lets into the log.
/// </summary>
public sealed class DenyLogTests
{
    private static IReadOnlyList<Expression> LogRule(PolicyBuilder builder, string chain)
    {
        var compiled = PolicyCompiler.Compile(ResolvedPolicy.ResolveAsync(builder.Build(), new NoDns()).GetAwaiter().GetResult());
        // The denial log rule (not the audit-mode log rule, which only matches while learn --audit runs).
        return Assert.Single(compiled.Rules, r => r.Rule.Chain == chain && r.Rule.Expressions.OfType<LogExpression>().Any()
            && !r.Rule.Expressions.OfType<LookupExpression>().Any(l => l.SetName == AuditMode.SetName)).Rule.Expressions;
    }

    private static PolicyBuilder Policy() => new PolicyBuilder().Table("t").Resolvers("192.0.2.53").AllowEgress("web", to: ["203.0.113.50"], tcp: [443]);

    [Theory]
    [InlineData("egress_denied", "EGRESS-DENIED: ")]
    [InlineData("ingress_denied", "INGRESS-DENIED: ")]
    public void A_prefixed_policy_logs_to_the_kernel_log_and_to_NFLOG_group_100_behind_one_limit(string chain, string prefix)
    {
        var expressions = LogRule(Policy().Log("EGRESS-DENIED: ", "10/second"), chain);
        Assert.IsType<LimitExpression>(expressions[0]);
        Assert.IsType<CounterExpression>(expressions[1]); // what the limit lets into the log: stats compares it with the final drop's
        var kernel = Assert.IsType<LogExpression>(expressions[2]);
        var nflog = Assert.IsType<LogExpression>(expressions[3]);
        Assert.Equal(4, expressions.Count);
        Assert.Equal((prefix, (ushort?)null), (kernel.Prefix, kernel.Group));
        Assert.Equal((prefix, (ushort?)LogSettings.DefaultGroup), (nflog.Prefix, nflog.Group));
        Assert.Equal(100, LogSettings.DefaultGroup);
    }

    [Fact]
    public void The_policy_s_log_group_replaces_the_default()
    {
        var expressions = LogRule(Policy().Log("EGRESS-DENIED: ", 10, group: 7), "egress_denied");
        Assert.Equal((ushort?)7, expressions.OfType<LogExpression>().Single(l => l.Group is not null).Group);
    }

    [Fact]
    public void Without_a_prefix_denials_still_go_to_NFLOG_and_to_no_kernel_log()
    {
        var expressions = LogRule(Policy(), "egress_denied");
        var nflog = Assert.IsType<LogExpression>(Assert.Single(expressions));
        Assert.Equal((null, (ushort?)100), (nflog.Prefix, nflog.Group));
    }

    [Fact]
    public void A_policy_file_without_log_group_gets_group_100()
    {
        var policy = PolicyLoader.Load("version: 1\ntable: t\nlog: { prefix: \"X \" }\negress: { dns: { resolvers: [192.0.2.53] }, allow: [] }\n", "p.yaml");
        Assert.Null(policy.Log.Group);
        Assert.Equal(100, policy.Log.NflogGroup);
    }
}
