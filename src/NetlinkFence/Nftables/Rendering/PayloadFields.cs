namespace NetlinkFence.Nftables.Rendering;

/// <summary>How the value of a header field or key is printed.</summary>
internal enum ValueKind
{
    /// <summary>Plain unsigned integer, big-endian.</summary>
    Integer,
    /// <summary>An IPv4 address.</summary>
    Ipv4,
    /// <summary>An IPv6 address.</summary>
    Ipv6,
    /// <summary>A port (<c>inet_service</c>), big-endian.</summary>
    Service,
    /// <summary>An IP protocol number printed by name (<c>tcp</c>, <c>udp</c>, ...).</summary>
    InetProto,
    /// <summary>An ICMP type printed by name.</summary>
    IcmpType,
    /// <summary>An ICMPv6 type printed by name.</summary>
    Icmpv6Type,
    /// <summary>A host-order integer (marks).</summary>
    HostInteger,
    /// <summary>A host-order unsigned decimal (uid, gid).</summary>
    HostDecimal,
    /// <summary>Conntrack state bits (host order), printed by name.</summary>
    CtState,
    /// <summary>TCP flags, printed by name.</summary>
    TcpFlags,
}

/// <summary>A known header field: its nft name and how its value prints.</summary>
/// <param name="Protocol">The nft protocol keyword, e.g. <c>ip</c>, <c>tcp</c>.</param>
/// <param name="Field">The field keyword, e.g. <c>daddr</c>.</param>
/// <param name="Kind">How values print.</param>
internal sealed record PayloadField(string Protocol, string Field, ValueKind Kind)
{
    /// <summary><c>ip daddr</c>.</summary>
    public override string ToString() => Protocol + " " + Field;
}

/// <summary>
/// The header fields nft knows by name, keyed by (header, protocol context, offset, length), so a
/// <c>payload load 4b @ network header + 16</c> under an IPv4 dependency renders as <c>ip daddr</c>.
/// Offsets are from RFC 791 (IPv4), RFC 8200 (IPv6), RFC 9293 (TCP), RFC 768 (UDP) and RFC 792/4443 (ICMP).
/// </summary>
internal static class PayloadFields
{
    /// <summary>Network-layer protocol numbers as <c>meta nfproto</c> loads them.</summary>
    public const byte NfprotoIpv4 = 2, NfprotoIpv6 = 10;

    /// <summary>IP protocol numbers.</summary>
    public const byte ProtoIcmp = 1, ProtoTcp = 6, ProtoUdp = 17, ProtoIcmpv6 = 58;

    /// <summary>A field of the network header for the given nfproto (2 IPv4, 10 IPv6).</summary>
    public static PayloadField? Network(byte nfproto, uint offset, uint length) => (nfproto, offset, length) switch
    {
        (NfprotoIpv4, 1, 1) => new("ip", "dscp", ValueKind.Integer), // masked in practice; shown raw if not
        (NfprotoIpv4, 2, 2) => new("ip", "length", ValueKind.Integer),
        (NfprotoIpv4, 4, 2) => new("ip", "id", ValueKind.Integer),
        (NfprotoIpv4, 8, 1) => new("ip", "ttl", ValueKind.Integer),
        (NfprotoIpv4, 9, 1) => new("ip", "protocol", ValueKind.InetProto),
        (NfprotoIpv4, 12, 4) => new("ip", "saddr", ValueKind.Ipv4),
        (NfprotoIpv4, 16, 4) => new("ip", "daddr", ValueKind.Ipv4),
        (NfprotoIpv6, 4, 2) => new("ip6", "length", ValueKind.Integer),
        (NfprotoIpv6, 6, 1) => new("ip6", "nexthdr", ValueKind.InetProto),
        (NfprotoIpv6, 7, 1) => new("ip6", "hoplimit", ValueKind.Integer),
        (NfprotoIpv6, 8, 16) => new("ip6", "saddr", ValueKind.Ipv6),
        (NfprotoIpv6, 24, 16) => new("ip6", "daddr", ValueKind.Ipv6),
        _ => null,
    };

    /// <summary>
    /// A leading part of an address field (<c>payload load 1b @ network header + 12</c>): nft loads only the
    /// prefix bytes for a byte-aligned CIDR match and prints it as <c>ip saddr 10.0.0.0/8</c>.
    /// </summary>
    public static PayloadField? AddressPrefix(byte nfproto, uint offset, uint length, out int addressLength)
    {
        addressLength = nfproto == NfprotoIpv4 ? 4 : 16;
        if (length == 0 || length >= addressLength)
            return null;
        return (nfproto, offset) switch
        {
            (NfprotoIpv4, 12) => new("ip", "saddr", ValueKind.Ipv4),
            (NfprotoIpv4, 16) => new("ip", "daddr", ValueKind.Ipv4),
            (NfprotoIpv6, 8) => new("ip6", "saddr", ValueKind.Ipv6),
            (NfprotoIpv6, 24) => new("ip6", "daddr", ValueKind.Ipv6),
            _ => null,
        };
    }

    /// <summary>nft's <c>th</c> (any transport header): ports at the same offsets for TCP, UDP, SCTP, DCCP, UDP-Lite.</summary>
    public static PayloadField? AnyTransport(uint offset, uint length) => (offset, length) switch
    {
        (0, 2) => new("th", "sport", ValueKind.Service),
        (2, 2) => new("th", "dport", ValueKind.Service),
        _ => null,
    };

    /// <summary>A field of the transport header for the given IP protocol.</summary>
    public static PayloadField? Transport(byte l4proto, uint offset, uint length) => (l4proto, offset, length) switch
    {
        (ProtoTcp, 0, 2) => new("tcp", "sport", ValueKind.Service),
        (ProtoTcp, 2, 2) => new("tcp", "dport", ValueKind.Service),
        (ProtoTcp, 4, 4) => new("tcp", "sequence", ValueKind.Integer),
        (ProtoTcp, 8, 4) => new("tcp", "ackseq", ValueKind.Integer),
        (ProtoTcp, 13, 1) => new("tcp", "flags", ValueKind.TcpFlags),
        (ProtoTcp, 14, 2) => new("tcp", "window", ValueKind.Integer),
        (ProtoUdp, 0, 2) => new("udp", "sport", ValueKind.Service),
        (ProtoUdp, 2, 2) => new("udp", "dport", ValueKind.Service),
        (ProtoUdp, 4, 2) => new("udp", "length", ValueKind.Integer),
        (ProtoIcmp, 0, 1) => new("icmp", "type", ValueKind.IcmpType),
        (ProtoIcmp, 1, 1) => new("icmp", "code", ValueKind.Integer),
        (ProtoIcmpv6, 0, 1) => new("icmpv6", "type", ValueKind.Icmpv6Type),
        (ProtoIcmpv6, 1, 1) => new("icmpv6", "code", ValueKind.Integer),
        _ => null,
    };
}
