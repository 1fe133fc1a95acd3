using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Policy;

namespace NetlinkFence.Tests.Policy.Learning;

/// <summary>The compiled table carries the audit switch: an empty timeout set and two rules at the top of egress_denied.</summary>
public sealed class AuditCompileTests
{
    [Fact]
    public async Task TheAuditSetIsEmptyWithTimeoutsAndGuardsTheFirstRulesOfEgressDenied()
    {
        var compiled = PolicyCompiler.Compile(await DenialLearnerTests.ResolvedAsync());
        var set = compiled.Sets.Single(s => s.Set.Name == AuditMode.SetName);
        Assert.Empty(set.Elements);
        Assert.True(set.Set.Flags.HasFlag(SetFlags.Timeout));

        var denied = compiled.Rules.Select(r => r.Rule).Where(r => r.Chain == PolicyCompiler.EgressDeniedChain).ToList();
        // Every rule that can accept in egress_denied is conditional on the audit set: without an element nothing is accepted.
        var accepting = denied.Where(r => r.Expressions.OfType<ImmediateExpression>().Any(i => i.Verdict == Verdict.Accept)).ToList();
        var accept = Assert.Single(accepting);
        Assert.Equal(AuditMode.SetName, accept.Expressions.OfType<LookupExpression>().Single().SetName);
        Assert.Same(accept, denied[1]);
        var log = denied[0].Expressions.OfType<LogExpression>().Single();
        Assert.Equal(PolicyCompiler.AuditLogPrefix, log.Prefix);
        Assert.Equal(LogSettings.DefaultGroup, log.Group);
        Assert.Equal(AuditMode.SetName, denied[0].Expressions.OfType<LookupExpression>().Single().SetName);
        Assert.IsType<LimitExpression>(denied[0].Expressions.Single(e => e is LimitExpression)); // the policy's rate bounds the audit log too
        Assert.Equal(Verdict.Drop, denied[^1].Expressions.OfType<ImmediateExpression>().Single().Verdict);
    }
}
