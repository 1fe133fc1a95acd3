using System.Net.Sockets;
using System.Net;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>
/// RuleBuilder emits what nft emits for the same text: nft adds each rule in a fresh namespace, the library reads
/// them back, and each must equal the builder's rule expression for expression (the matches the compiler does not
/// use included, so an embedder's rule prints in <c>nft list</c> as written).
/// </summary>
public sealed class RuleBuilderTests
{
    private static readonly (string Nft, Func<RuleBuilder, Rule> Build)[] Cases =
    [
        ("ip daddr @dst4", r => r.DestinationIn(AddressFamily.InterNetwork, "dst4").Build()),
        ("ip6 saddr @src6 drop", r => r.SourceIn(AddressFamily.InterNetworkV6, "src6").Drop()),
        ("tcp dport 1000-2000 accept", r => r.DestinationPortRange(ProtocolType.Tcp, 1000, 2000).Accept()),
        ("udp sport 53 accept", r => r.SourcePort(ProtocolType.Udp, 53).Accept()),
        ("ip daddr 203.0.113.50 tcp dport 443 counter accept comment \"ironclaw-control\"",
            r => r.Destination(IPAddress.Parse("203.0.113.50")).DestinationPort(ProtocolType.Tcp, 443).Counter().Accept("ironclaw-control")),
        ("ip saddr 10.0.0.0/8 jump other", r => r.Source(IPAddress.Parse("10.0.0.0"), 8).Jump("other")),
        ("ip6 daddr fe80::/10 accept", r => r.Destination(IPAddress.Parse("fe80::"), 10).Accept()),
        ("meta mark 0x4e4c4654 counter", r => r.Mark(0x4e4c4654).Counter().Build()),
        ("ct state established,related accept", r => r.CtState(CtState.Established | CtState.Related).Accept()),
        ("ip daddr . tcp dport @pairs4 accept", r => r.DestinationAndPortIn(AddressFamily.InterNetwork, ProtocolType.Tcp, "pairs4").Accept()),
    ];

    [Fact]
    public async Task EveryMatchReadsBackAsNftWritesIt()
    {
        using var ns = TestNamespace.Create();
        ns.Nft("add table inet t");
        ns.Nft("add chain inet t c");
        ns.Nft("add chain inet t other");
        ns.Nft("add set inet t dst4 { type ipv4_addr ; }");
        ns.Nft("add set inet t src6 { type ipv6_addr ; }");
        ns.Nft("add set inet t pairs4 { type ipv4_addr . inet_service ; }");
        foreach (var (text, _) in Cases)
            ns.Nft($"add rule inet t c {text}");

        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var live = (await nft.ListTableAsync(NftFamily.Inet, "t"))!.RulesOf("c").ToList();
        Assert.Equal(Cases.Length, live.Count);
        for (int i = 0; i < Cases.Length; i++)
        {
            var built = Cases[i].Build(new RuleBuilder(NftFamily.Inet, "t", "c"));
            Assert.True(built.SameConfiguration(live[i]),
                $"'{Cases[i].Nft}': nft wrote [{string.Join(", ", live[i].Expressions)}], the builder [{string.Join(", ", built.Expressions)}]");
        }
    }
}
