using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

public sealed class SmokeTests
{
    [Fact]
    public async Task CommitsATableAndReadsItBack()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var table = new Table(NftFamily.Inet, "smoke");
        var output = new Chain(NftFamily.Inet, "smoke", "output", new ChainHook("filter", HookPoint.Output, 0, ChainPolicy.Drop));
        var rule = new Rule(NftFamily.Inet, "smoke", "output",
        [
            new MetaExpression(MetaKey.NfProto),
            new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([2])),
            new PayloadExpression(PayloadBase.Network, 16, 4),
            new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([1, 2, 3, 4])),
            new CounterExpression(),
            new ImmediateExpression(Verdict.Accept),
        ], "hello");
        var result = await nft.CommitAsync(new Transaction().AddTable(table).AddChain(output).AddRule(rule));
        Assert.True(result.GenerationAfter > 0);
        var contents = await nft.ListTableAsync(NftFamily.Inet, "smoke");
        Assert.NotNull(contents);
        Assert.Single(contents.Rules);
        Assert.True(contents.Rules[0].SameConfiguration(rule), string.Join(", ", contents.Rules[0].Expressions));
        string listed = ns.Nft("list ruleset");
        Assert.Contains("ip daddr 1.2.3.4 counter packets 0 bytes 0 accept comment \"hello\"", listed);
    }
}
