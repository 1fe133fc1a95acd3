using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>Small builders for kernel tests: tables, chains and rules that the kernel accepts as they are.</summary>
internal static class Build
{
    public static Table Table(string name) => new(NftFamily.Inet, name);

    public static Chain BaseChain(string table, string name = "output", ChainPolicy policy = ChainPolicy.Accept) =>
        new(NftFamily.Inet, table, name, new ChainHook("filter", HookPoint.Output, 0, policy));

    public static Chain RegularChain(string table, string name) => new(NftFamily.Inet, table, name);

    /// <summary><c>meta nfproto ipv4 ip daddr A counter accept comment "..."</c>; A derived from <paramref name="n"/>.</summary>
    public static Rule AcceptTo(string table, string chain, int n, string? comment = null) =>
        new(NftFamily.Inet, table, chain,
        [
            new MetaExpression(MetaKey.NfProto),
            new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([2])),
            new PayloadExpression(PayloadBase.Network, 16, 4),
            new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue(Address(n))),
            new CounterExpression(),
            new ImmediateExpression(Verdict.Accept),
        ], comment);

    /// <summary>A rule that jumps to <paramref name="target"/>.</summary>
    public static Rule JumpTo(string table, string chain, string target, string? comment = null) =>
        new(NftFamily.Inet, table, chain, [new CounterExpression(), new ImmediateExpression(Verdict.JumpTo(target))], comment);

    /// <summary>10.x.y.z for n.</summary>
    public static byte[] Address(int n) => [10, (byte)(n >> 16), (byte)(n >> 8), (byte)n];

    /// <summary>A key of an <c>ipv4_addr . inet_service</c> set: 4 address bytes, then the port padded to 4 bytes.</summary>
    public static SetElement AddressPort(int n, ushort port) =>
        new(new DataValue([.. Address(n), (byte)(port >> 8), (byte)port, 0, 0]));

    public static NftSet AddressPortSet(string table, string name) =>
        new(NftFamily.Inet, table, name, [SetKeyType.Ipv4Address, SetKeyType.InetService]);

    /// <summary>Asserts two listings describe the same objects with the same handles, in the same order.</summary>
    public static void AssertSameContents(TableContents? expected, TableContents? actual)
    {
        if (expected is null || actual is null)
        {
            Assert.Equal(expected is null, actual is null);
            return;
        }
        Assert.Equal(expected.Table, actual.Table);
        Assert.Equal(expected.Chains, actual.Chains);
        Assert.Equal(expected.Rules.Count, actual.Rules.Count);
        for (int i = 0; i < expected.Rules.Count; i++)
            Assert.True(expected.Rules[i].Equals(actual.Rules[i]), $"rule {i} differs");
        Assert.Equal(expected.Sets.Count, actual.Sets.Count);
        for (int i = 0; i < expected.Sets.Count; i++)
        {
            Assert.Equal(expected.Sets[i].Set, actual.Sets[i].Set);
            // A hash set's iteration order is not part of its contents (an aborted insert can resize the table).
            Assert.Equal(expected.Sets[i].Elements.OrderBy(e => e.Key.ToString()), actual.Sets[i].Elements.OrderBy(e => e.Key.ToString()));
        }
    }
}
