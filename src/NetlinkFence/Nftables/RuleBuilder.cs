using System.Net.Sockets;
using System.Net;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Nftables.Expressions;

namespace NetlinkFence.Nftables;

/// <summary>
/// Builds a rule from nft-style matches, emitting exactly the expression sequences nft 1.0.6 emits for the
/// same text (so <c>nft list</c> prints our rules the way it prints its own). In an inet table an L3 match is
/// preceded by <c>meta nfproto</c> and an L4 match by <c>meta l4proto</c>, as nft does, so a rule can never
/// read an IPv4 field out of an IPv6 packet.
/// </summary>
/// <example>
/// <code>
/// Rule allow = new RuleBuilder(NftFamily.Inet, "t", "output")   // ip daddr 203.0.113.50 tcp dport 443 counter accept
///     .Destination(IPAddress.Parse("203.0.113.50"))
///     .DestinationPort(ProtocolType.Tcp, 443)
///     .Counter()
///     .Accept("ironclaw-control");
/// </code>
/// </example>
public sealed class RuleBuilder
{
    private readonly List<Expression> _expressions = [];
    private readonly NftFamily _family;
    private readonly string _table;
    private readonly string _chain;
    private AddressFamily? _nfproto; // the meta nfproto match already added, so that it is added once

    /// <summary>Starts a rule for <paramref name="chain"/> of table <paramref name="table"/>.</summary>
    public RuleBuilder(NftFamily family, string table, string chain)
    {
        _family = family;
        _table = table;
        _chain = chain;
    }

    /// <summary><c>iif "lo"</c>: the packet came in on interface index <paramref name="interfaceIndex"/>.</summary>
    public RuleBuilder InputInterface(uint interfaceIndex) => MetaEquals(MetaKey.InputInterface, DataValue.HostOrder32(interfaceIndex));

    /// <summary><c>oif "lo"</c>: the packet leaves on interface index <paramref name="interfaceIndex"/>.</summary>
    public RuleBuilder OutputInterface(uint interfaceIndex) => MetaEquals(MetaKey.OutputInterface, DataValue.HostOrder32(interfaceIndex));

    /// <summary><c>meta mark 0x...</c>: the packet carries <paramref name="mark"/> (locally generated: its socket's <c>SO_MARK</c>).</summary>
    public RuleBuilder Mark(uint mark) => MetaEquals(MetaKey.Mark, DataValue.HostOrder32(mark));

    /// <summary><c>ct state established,related</c>: any of <paramref name="states"/>.</summary>
    public RuleBuilder CtState(CtState states)
    {
        _expressions.Add(new CtExpression(CtKey.State));
        _expressions.Add(new BitwiseExpression(Registers.R1, Registers.R1, 4, DataValue.HostOrder32((uint)states), DataValue.HostOrder32(0)));
        _expressions.Add(new CmpExpression(CmpOp.Neq, Registers.R1, DataValue.HostOrder32(0)));
        return this;
    }

    /// <summary><c>meta l4proto icmp</c>.</summary>
    public RuleBuilder L4Protocol(ProtocolType protocol) => MetaEquals(MetaKey.L4Proto, new DataValue([(byte)protocol]));

    /// <summary><c>ip daddr 192.0.2.1</c> or <c>ip daddr 10.0.0.0/8</c> (and <c>ip6 daddr</c> for IPv6 addresses).</summary>
    public RuleBuilder Destination(IPAddress address, int? prefixLength = null) => Address(address, prefixLength, destination: true);

    /// <summary><c>ip saddr 10.0.0.0/8</c> (and <c>ip6 saddr</c>).</summary>
    public RuleBuilder Source(IPAddress address, int? prefixLength = null) => Address(address, prefixLength, destination: false);

    /// <summary><c>ip daddr @set</c> / <c>ip6 daddr @set</c>.</summary>
    public RuleBuilder DestinationIn(AddressFamily family, string set) => AddressIn(family, set, destination: true);

    /// <summary><c>ip saddr @set</c> / <c>ip6 saddr @set</c>.</summary>
    public RuleBuilder SourceIn(AddressFamily family, string set) => AddressIn(family, set, destination: false);

    /// <summary><c>tcp dport 443</c>, <c>udp dport 53</c>.</summary>
    public RuleBuilder DestinationPort(ProtocolType protocol, ushort port) => Port(protocol, port, port, destination: true);

    /// <summary><c>tcp dport 1000-2000</c> (two comparisons, as nft emits).</summary>
    public RuleBuilder DestinationPortRange(ProtocolType protocol, ushort first, ushort last) => Port(protocol, first, last, destination: true);

    /// <summary><c>tcp sport 22</c>.</summary>
    public RuleBuilder SourcePort(ProtocolType protocol, ushort port) => Port(protocol, port, port, destination: false);

    /// <summary><c>ip daddr . tcp dport @set</c>: one lookup of (destination address, destination port).</summary>
    public RuleBuilder DestinationAndPortIn(AddressFamily family, ProtocolType protocol, string set) =>
        AddressAndPortIn(family, protocol, set, destination: true);

    /// <summary><c>ip saddr . tcp dport @set</c>: one lookup of (source address, destination port).</summary>
    public RuleBuilder SourceAndDestinationPortIn(AddressFamily family, ProtocolType protocol, string set) =>
        AddressAndPortIn(family, protocol, set, destination: false);

    private RuleBuilder AddressAndPortIn(AddressFamily family, ProtocolType protocol, string set, bool destination)
    {
        AddressField(family, destination, out uint offset, out uint length);
        NfProto(family);
        L4(protocol);
        _expressions.Add(new PayloadExpression(PayloadBase.Network, offset, length, Registers.R1));
        _expressions.Add(new PayloadExpression(PayloadBase.Transport, 2, 2, RegisterForWord((int)(length / 4))));
        _expressions.Add(new LookupExpression(set, Registers.R1));
        return this;
    }

    /// <summary>
    /// <c>ip daddr . meta l4proto . th dport @set</c>: one lookup of (destination address, protocol, destination
    /// port) in a set keyed <c>ipv4_addr . inet_proto . inet_service</c>, so one rule serves every protocol.
    /// </summary>
    public RuleBuilder DestinationProtocolAndPortIn(AddressFamily family, string set) => AddressProtocolAndPortIn(family, set, destination: true);

    /// <summary><c>ip saddr . meta l4proto . th dport @set</c>: as <see cref="DestinationProtocolAndPortIn"/> for inbound traffic.</summary>
    public RuleBuilder SourceProtocolAndDestinationPortIn(AddressFamily family, string set) => AddressProtocolAndPortIn(family, set, destination: false);

    /// <summary>
    /// <c>ip daddr . meta l4proto . th dport . socket cgroupv2 level N @set</c>: as <see cref="DestinationProtocolAndPortIn"/>,
    /// with the id of the sending socket's cgroup ancestor at <paramref name="level"/> as a fourth field (set key
    /// <c>... . cgroupsv2</c>): the element allows the destination to that cgroup and the cgroups below it only.
    /// </summary>
    public RuleBuilder DestinationProtocolPortAndCgroupIn(AddressFamily family, string set, uint level) =>
        AddressProtocolAndPortIn(family, set, destination: true, scope: word => new SocketExpression(level, RegisterForWord(word)), scopeSize: 8);

    /// <summary>
    /// <c>ip daddr . meta l4proto . th dport . meta skuid @set</c>: as <see cref="DestinationProtocolAndPortIn"/>, with the
    /// sending socket's user id as a fourth field (set key <c>... . uid</c>).
    /// </summary>
    public RuleBuilder DestinationProtocolPortAndUserIn(AddressFamily family, string set) =>
        AddressProtocolAndPortIn(family, set, destination: true, scope: word => new MetaExpression(MetaKey.SocketUid, RegisterForWord(word)), scopeSize: 4);

    private RuleBuilder AddressProtocolAndPortIn(AddressFamily family, string set, bool destination, Func<int, Expression>? scope = null, uint scopeSize = 0)
    {
        AddressField(family, destination, out uint offset, out uint length);
        NfProto(family);
        int word = (int)(length / 4);
        _expressions.Add(new PayloadExpression(PayloadBase.Network, offset, length, Registers.R1));
        // nft 1.0.6 also emits a byteorder of length 1 after the l4proto load (a no-op on one byte); the lookup
        // needs only the register, which meta's 8-bit store zero-pads (nft_reg_store8).
        _expressions.Add(new MetaExpression(MetaKey.L4Proto, RegisterForWord(word)));
        // Without an l4proto match th dport reads bytes 2-3 of any transport header; only tcp and udp are in the set.
        _expressions.Add(new PayloadExpression(PayloadBase.Transport, 2, 2, RegisterForWord(word + 1)));
        if (scope is not null)
        {
            // A host-order value in an interval set is stored in network order (the set compares bytes): nft
            // converts it in the register first, and so do we.
            uint register = RegisterForWord(word + 2);
            _expressions.Add(scope(word + 2));
            _expressions.Add(ByteorderExpression.HostToNetwork(register, scopeSize));
        }
        _expressions.Add(new LookupExpression(set, Registers.R1));
        return this;
    }

    /// <summary><c>icmpv6 type nd-neighbor-solicit</c> and friends (the ICMPv6 type byte).</summary>
    public RuleBuilder IcmpV6Type(byte type)
    {
        NfProto(AddressFamily.InterNetworkV6);
        L4(ProtocolType.IcmpV6);
        _expressions.Add(new PayloadExpression(PayloadBase.Transport, 0, 1));
        _expressions.Add(new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([type])));
        return this;
    }

    /// <summary><c>rt type N</c>: the packet has an IPv6 routing header of type <paramref name="type"/>.</summary>
    public RuleBuilder RoutingHeaderType(byte type)
    {
        NfProto(AddressFamily.InterNetworkV6);
        _expressions.Add(new ExthdrExpression(ExthdrExpression.RoutingHeader, 2, 1));
        _expressions.Add(new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([type])));
        return this;
    }

    /// <summary><c>ip6 hoplimit N</c>: the IPv6 hop limit equals <paramref name="hopLimit"/>.</summary>
    public RuleBuilder HopLimit(byte hopLimit)
    {
        NfProto(AddressFamily.InterNetworkV6);
        _expressions.Add(new PayloadExpression(PayloadBase.Network, 7, 1));
        _expressions.Add(new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([hopLimit])));
        return this;
    }

    /// <summary><c>meta skuid &gt;= 0</c>: the packet belongs to a process's socket (it fails to match packets the kernel sends itself).</summary>
    public RuleBuilder FromProcessSocket()
    {
        _expressions.Add(new MetaExpression(MetaKey.SocketUid));
        _expressions.Add(new CmpExpression(CmpOp.Gte, Registers.R1, DataValue.HostOrder32(0)));
        return this;
    }

    /// <summary><c>limit rate N/second</c> (burst 5, nft's default).</summary>
    public RuleBuilder Limit(ulong rate, ulong unitSeconds) => Add(new LimitExpression(rate, unitSeconds));

    /// <summary><c>log prefix "..." [group N]</c>.</summary>
    public RuleBuilder Log(string? prefix, ushort? group = null) => Add(new LogExpression(prefix) { Group = group });

    /// <summary><c>counter</c>.</summary>
    public RuleBuilder Counter() => Add(new CounterExpression());

    /// <summary>Appends any expression.</summary>
    public RuleBuilder Add(Expression expression)
    {
        _expressions.Add(expression);
        return this;
    }

    /// <summary>Ends with <c>accept</c>.</summary>
    public Rule Accept(string? comment = null) => Verdict(Nftables.Verdict.Accept, comment);

    /// <summary>Ends with <c>drop</c>.</summary>
    public Rule Drop(string? comment = null) => Verdict(Nftables.Verdict.Drop, comment);

    /// <summary>Ends with <c>jump CHAIN</c>.</summary>
    public Rule Jump(string chain, string? comment = null) => Verdict(Nftables.Verdict.JumpTo(chain), comment);

    /// <summary>Ends with <paramref name="verdict"/>.</summary>
    public Rule Verdict(Verdict verdict, string? comment = null)
    {
        _expressions.Add(new ImmediateExpression(verdict));
        return Build(comment);
    }

    /// <summary>Ends without a verdict (e.g. a log-only rule).</summary>
    public Rule Build(string? comment = null) => new(_family, _table, _chain, _expressions.ToArray(), comment);

    private RuleBuilder Address(IPAddress address, int? prefixLength, bool destination)
    {
        AddressField(address.AddressFamily, destination, out uint offset, out uint length);
        byte[] bytes = address.GetAddressBytes();
        int prefix = prefixLength ?? bytes.Length * 8;
        if (prefix < 0 || prefix > bytes.Length * 8)
            throw new ArgumentOutOfRangeException(nameof(prefixLength), $"prefix /{prefix} does not fit a {bytes.Length * 8}-bit address");
        NfProto(address.AddressFamily);
        if (prefix == bytes.Length * 8)
        {
            _expressions.Add(new PayloadExpression(PayloadBase.Network, offset, length));
            _expressions.Add(new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue(bytes)));
        }
        else if (prefix % 8 == 0)
        {
            // nft loads only the whole bytes of a byte-aligned prefix.
            _expressions.Add(new PayloadExpression(PayloadBase.Network, offset, (uint)(prefix / 8)));
            _expressions.Add(new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue(bytes.AsSpan(0, prefix / 8))));
        }
        else
        {
            // Any other prefix: the whole address, masked, as nft encodes it (ip6 daddr fe80::/10 loads 16 bytes).
            int loaded = bytes.Length;
            byte[] mask = new byte[loaded];
            for (int bit = 0; bit < prefix; bit++)
                mask[bit / 8] |= (byte)(0x80 >> (bit % 8));
            byte[] network = bytes.AsSpan(0, loaded).ToArray();
            for (int i = 0; i < loaded; i++)
                network[i] &= mask[i];
            _expressions.Add(new PayloadExpression(PayloadBase.Network, offset, (uint)loaded));
            _expressions.Add(new BitwiseExpression(Registers.R1, Registers.R1, (uint)loaded, DataValue.Own(mask), DataValue.Own(new byte[loaded])));
            _expressions.Add(new CmpExpression(CmpOp.Eq, Registers.R1, DataValue.Own(network)));
        }
        return this;
    }

    private RuleBuilder AddressIn(AddressFamily family, string set, bool destination)
    {
        AddressField(family, destination, out uint offset, out uint length);
        NfProto(family);
        _expressions.Add(new PayloadExpression(PayloadBase.Network, offset, length));
        _expressions.Add(new LookupExpression(set, Registers.R1));
        return this;
    }

    private RuleBuilder Port(ProtocolType protocol, ushort first, ushort last, bool destination)
    {
        L4(protocol);
        _expressions.Add(new PayloadExpression(PayloadBase.Transport, destination ? 2u : 0u, 2));
        if (first == last)
        {
            _expressions.Add(new CmpExpression(CmpOp.Eq, Registers.R1, DataValue.BigEndian16(first)));
        }
        else
        {
            _expressions.Add(new CmpExpression(CmpOp.Gte, Registers.R1, DataValue.BigEndian16(first)));
            _expressions.Add(new CmpExpression(CmpOp.Lte, Registers.R1, DataValue.BigEndian16(last)));
        }
        return this;
    }

    private RuleBuilder MetaEquals(MetaKey key, DataValue value)
    {
        _expressions.Add(new MetaExpression(key));
        _expressions.Add(new CmpExpression(CmpOp.Eq, Registers.R1, value));
        return this;
    }

    private void NfProto(AddressFamily family)
    {
        if (_family != NftFamily.Inet)
            return; // ip and ip6 tables only see their own family
        if (_nfproto == family)
            return;
        _nfproto = family;
        byte proto = family == AddressFamily.InterNetworkV6 ? (byte)NetfilterFamily.IPV6 : (byte)NetfilterFamily.IPV4;
        MetaEquals(MetaKey.NfProto, new DataValue([proto]));
    }

    private void L4(ProtocolType protocol) => MetaEquals(MetaKey.L4Proto, new DataValue([(byte)protocol]));

    private static void AddressField(AddressFamily family, bool destination, out uint offset, out uint length)
    {
        switch (family)
        {
            case AddressFamily.InterNetwork:
                offset = destination ? 16u : 12u;
                length = 4;
                break;
            case AddressFamily.InterNetworkV6:
                offset = destination ? 24u : 8u;
                length = 16;
                break;
            default:
                throw new ArgumentException($"address family {family} is neither IPv4 nor IPv6");
        }
    }

    /// <summary>
    /// The register nft names for 32-bit word <paramref name="word"/> of a concatenation: a word on a 128-bit
    /// boundary is written as the 128-bit register (reg 2), others as 32-bit registers (reg 9).
    /// </summary>
    private static uint RegisterForWord(int word) =>
        word % 4 == 0 ? Registers.R1 + (uint)(word / 4) : Registers.R32(word);
}
