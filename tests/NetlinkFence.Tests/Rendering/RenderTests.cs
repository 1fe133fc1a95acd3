using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables.Rendering;
using NetlinkFence.Nftables;

namespace NetlinkFence.Tests.Rendering;

/// <summary>Renderer behaviour that needs no kernel: fallbacks, resolvers, debug form.</summary>
public sealed class RenderTests
{
    private static Rule RuleOf(params Expression[] expressions) => new(NftFamily.Inet, "t", "c", expressions);

    [Fact]
    public void UnknownExpression_IsPrintedAsCommentWithItsBytes_NeverDropped()
    {
        var rule = RuleOf(new RawExpression("quota", new DataValue([0x0c, 0x00, 0x01, 0x00])), new ImmediateExpression(Verdict.Accept));
        string text = new NftRenderer().RenderRule(rule);
        Assert.Equal("# [ quota unknown 0x0c000100 ] [ immediate reg 0 accept ]", text);
    }

    [Fact]
    public void PartlyRecognisedRule_IsPrintedWholeAsComment()
    {
        // A payload load nobody compares: nft could not print it either; we keep every expression.
        var rule = RuleOf(new MetaExpression(MetaKey.L4Proto), new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([6])),
            new PayloadExpression(PayloadBase.Transport, 2, 2), new ImmediateExpression(Verdict.Drop));
        Assert.Equal(
            "# [ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000006 ] [ payload load 2b @ transport header + 2 => reg 1 ] [ immediate reg 0 drop ]",
            new NftRenderer().RenderRule(rule));
    }

    [Fact]
    public void RuleComment_IsKeptOnTheFallbackLine()
    {
        var rule = new Rule(NftFamily.Inet, "t", "c", [new RawExpression("xt", default)], "why");
        Assert.Equal("# [ xt unknown 0x ] comment \"why\"", new NftRenderer().RenderRule(rule));
    }

    [Fact]
    public void InterfaceIndex_IsPrintedAsNumber_WithoutResolver_AndAsName_WithOne()
    {
        var rule = RuleOf(new MetaExpression(MetaKey.InputInterface), new CmpExpression(CmpOp.Eq, Registers.R1, DataValue.HostOrder32(1)),
            new ImmediateExpression(Verdict.Accept));
        Assert.Equal("iif 1 accept", new NftRenderer().RenderRule(rule));
        Assert.Equal("iif \"lo\" accept", new NftRenderer(i => i == 1 ? "lo" : null).RenderRule(rule));
        Assert.Equal("iif 1 accept", new NftRenderer(_ => null).RenderRule(rule));
    }

    [Fact]
    public void DependencyThatNothingUses_IsPrinted()
    {
        var rule = RuleOf(new MetaExpression(MetaKey.NfProto), new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([10])),
            new CounterExpression(3, 180), new ImmediateExpression(Verdict.GotoChain("x")));
        Assert.Equal("meta nfproto ipv6 counter packets 3 bytes 180 goto x", new NftRenderer().RenderRule(rule));
    }

    [Fact]
    public void NetlinkDebug_MatchesNftFormat()
    {
        var rule = RuleOf(
            new MetaExpression(MetaKey.NfProto), new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([2])),
            new PayloadExpression(PayloadBase.Network, 16, 4), new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([192, 168, 1, 10])),
            new CtExpression(CtKey.State), new BitwiseExpression(Registers.R1, Registers.R1, 4, DataValue.HostOrder32(6), DataValue.HostOrder32(0)),
            new RangeExpression(true, Registers.R1, DataValue.BigEndian16(5000), DataValue.BigEndian16(6000)),
            new LookupExpression("s", Registers.R1),
            new LimitExpression(10, 1), new LogExpression("p") { Level = 6 }, new RejectExpression(RejectType.TcpReset),
            new ImmediateExpression(Verdict.JumpTo("x")));
        Assert.Equal("""
            inet t c
              [ meta load nfproto => reg 1 ]
              [ cmp eq reg 1 0x00000002 ]
              [ payload load 4b @ network header + 16 => reg 1 ]
              [ cmp eq reg 1 0x0a01a8c0 ]
              [ ct load state => reg 1 ]
              [ bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000 ]
              [ range neq reg 1 0x00008813 0x00007017 ]
              [ lookup reg 1 set s ]
              [ limit rate 10/second burst 5 type packets flags 0x0 ]
              [ log prefix p level 6 ]
              [ reject type 1 code 0 ]
              [ immediate reg 0 jump -> x ]

            """.Replace("\r", ""), NftRenderer.RenderNetlinkDebug(rule));
    }

    [Fact]
    public void SetElements_BreakLinesLikeNft()
    {
        var set = new NftSet(NftFamily.Inet, "t", "p", [SetKeyType.InetService]);
        var elements = Enumerable.Range(1, 7).Select(i => new SetElement(DataValue.BigEndian16((ushort)(8 - i)))).ToList();
        var contents = new TableContents(new Table(NftFamily.Inet, "t"), [], [new SetContents(set, elements)], [], 0);
        Assert.Equal("""
            table inet t {
            	set p {
            		type inet_service
            		elements = { 1, 2, 3, 4, 5,
            			     6, 7 }
            	}
            }

            """.Replace("\r", ""), new NftRenderer().Render(contents));
    }

    [Fact]
    public void IntervalSets_FoldToPrefixesForAddressesOnly_AndRangesOtherwise()
    {
        var v6 = new NftSet(NftFamily.Inet, "t", "v6", [SetKeyType.Ipv6Address], SetFlags.Interval);
        var ports = new NftSet(NftFamily.Inet, "t", "p", [SetKeyType.InetService], SetFlags.Interval);
        var v6Elements = new List<SetElement>
        {
            new(new DataValue(System.Net.IPAddress.Parse("2001:db8::").GetAddressBytes())),
            new(new DataValue(System.Net.IPAddress.Parse("2001:db9::").GetAddressBytes())) { IntervalEnd = true },
            new(new DataValue(System.Net.IPAddress.Parse("::1").GetAddressBytes())),
            new(new DataValue(System.Net.IPAddress.Parse("::2").GetAddressBytes())) { IntervalEnd = true },
        };
        var portElements = new List<SetElement>
        {
            new(DataValue.BigEndian16(1024)), new(DataValue.BigEndian16(2048)) { IntervalEnd = true },
            new(DataValue.BigEndian16(60000)), // open range: to the end of the key space
        };
        Assert.Equal(["::1", "2001:db8::/32"], SetElementFormatter.Items(v6, v6Elements));
        Assert.Equal(["1024-2047", "60000-65535"], SetElementFormatter.Items(ports, portElements));
    }

    [Fact]
    public void NamedMap_IsSaidToBeUnrendered_NotPrintedAsASet()
    {
        var map = new NftSet(NftFamily.Inet, "t", "m", [SetKeyType.InetService], SetFlags.Map);
        var contents = new TableContents(new Table(NftFamily.Inet, "t"), [], [new SetContents(map, [new SetElement(DataValue.BigEndian16(22))])], [], 0);
        Assert.Equal("table inet t {\n\t# map m: type inet_service : (data not decoded), 1 elements; maps are not rendered\n}\n",
            new NftRenderer().Render(contents));
    }
}
