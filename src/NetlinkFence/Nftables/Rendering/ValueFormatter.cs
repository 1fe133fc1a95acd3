using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Numerics;

namespace NetlinkFence.Nftables.Rendering;

/// <summary>Prints constants the way nft prints them: addresses, ports, protocol and ICMP type names.</summary>
internal static class ValueFormatter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Formats <paramref name="value"/> as <paramref name="kind"/>; null when the bytes do not fit the kind.</summary>
    public static string? Format(ReadOnlySpan<byte> value, ValueKind kind) => kind switch
    {
        ValueKind.Ipv4 => value.Length == 4 ? new IPAddress(value).ToString() : null,
        ValueKind.Ipv6 => value.Length == 16 ? new IPAddress(value).ToString() : null,
        ValueKind.Service or ValueKind.Integer => value.Length is >= 1 and <= 8 ? BigEndian(value).ToString(Invariant) : null,
        ValueKind.InetProto => value.Length == 1 ? ProtocolName(value[0]) : null,
        ValueKind.IcmpType => value.Length == 1 ? IcmpTypeName(value[0]) : null,
        ValueKind.Icmpv6Type => value.Length == 1 ? Icmpv6TypeName(value[0]) : null,
        ValueKind.HostDecimal => value.Length == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(value).ToString(Invariant) : null,
        ValueKind.CtState => value.Length == 4 ? RuleRenderer.CtStateNames(BinaryPrimitives.ReadUInt32LittleEndian(value)) : null,
        ValueKind.TcpFlags => value.Length == 1 ? TcpFlagNames(value[0]) : null,
        ValueKind.HostInteger => value.Length == 4 ? "0x" + BinaryPrimitives.ReadUInt32LittleEndian(value).ToString("x8", Invariant) : null,
        _ => null,
    };

    /// <summary>An unsigned big-endian integer of up to 8 bytes.</summary>
    public static ulong BigEndian(ReadOnlySpan<byte> value)
    {
        ulong result = 0;
        foreach (byte b in value)
            result = (result << 8) | b;
        return result;
    }

    /// <summary>The IP protocol name nft prints (from <c>/etc/protocols</c>), else the number.</summary>
    public static string ProtocolName(byte protocol) => protocol switch
    {
        1 => "icmp",
        2 => "igmp",
        4 => "ipencap",
        6 => "tcp",
        17 => "udp",
        33 => "dccp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        132 => "sctp",
        136 => "udplite",
        _ => protocol.ToString(Invariant),
    };

    /// <summary>TCP flag names, lowest bit first, joined with <c>|</c>; null for no flags.</summary>
    public static string? TcpFlagNames(byte flags)
    {
        string[] names = ["fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr"];
        var set = new List<string>();
        for (int bit = 0; bit < 8; bit++)
            if ((flags & (1 << bit)) != 0)
                set.Add(names[bit]);
        return set.Count == 0 ? null : string.Join(" | ", set);
    }

    /// <summary>nft's <c>icmp_type</c> names.</summary>
    public static string IcmpTypeName(byte type) => type switch
    {
        0 => "echo-reply",
        3 => "destination-unreachable",
        4 => "source-quench",
        5 => "redirect",
        8 => "echo-request",
        9 => "router-advertisement",
        10 => "router-solicitation",
        11 => "time-exceeded",
        12 => "parameter-problem",
        13 => "timestamp-request",
        14 => "timestamp-reply",
        15 => "info-request",
        16 => "info-reply",
        17 => "address-mask-request",
        18 => "address-mask-reply",
        _ => type.ToString(Invariant),
    };

    /// <summary>nft's <c>icmpv6_type</c> names.</summary>
    public static string Icmpv6TypeName(byte type) => type switch
    {
        1 => "destination-unreachable",
        2 => "packet-too-big",
        3 => "time-exceeded",
        4 => "parameter-problem",
        128 => "echo-request",
        129 => "echo-reply",
        130 => "mld-listener-query",
        131 => "mld-listener-report",
        132 => "mld-listener-done",
        133 => "nd-router-solicit",
        134 => "nd-router-advert",
        135 => "nd-neighbor-solicit",
        136 => "nd-neighbor-advert",
        137 => "nd-redirect",
        138 => "router-renumbering",
        141 => "ind-neighbor-solicit",
        142 => "ind-neighbor-advert",
        143 => "mld2-listener-report",
        _ => type.ToString(Invariant),
    };

    /// <summary>Length of the prefix <paramref name="mask"/> describes (leading ones, then zeros), or -1.</summary>
    public static int PrefixLength(ReadOnlySpan<byte> mask)
    {
        int length = 0;
        bool inZeros = false;
        foreach (byte b in mask)
        {
            for (int bit = 7; bit >= 0; bit--)
            {
                bool one = (b & (1 << bit)) != 0;
                if (one && inZeros)
                    return -1;
                if (one)
                    length++;
                else
                    inZeros = true;
            }
        }
        return length;
    }

    /// <summary>
    /// The prefix length when [<paramref name="low"/>, <paramref name="high"/>] (big-endian, same length) is exactly
    /// one CIDR block, else -1.
    /// </summary>
    public static int RangePrefixLength(ReadOnlySpan<byte> low, ReadOnlySpan<byte> high)
    {
        if (low.Length != high.Length)
            return -1;
        var lo = new BigInteger(low, isUnsigned: true, isBigEndian: true);
        var hi = new BigInteger(high, isUnsigned: true, isBigEndian: true);
        var size = hi - lo + 1;
        if (size <= 0 || !size.IsPowerOfTwo || !(lo % size).IsZero)
            return -1;
        return low.Length * 8 - (int)(size.GetBitLength() - 1);
    }

    /// <summary>nft's <c>--debug=netlink</c> rendering of data: 32-bit words in host order, <c>0x%08x</c> each.</summary>
    public static string DebugWords(ReadOnlySpan<byte> data)
    {
        var words = new List<string>((data.Length + 3) / 4);
        Span<byte> word = stackalloc byte[4];
        for (int i = 0; i < data.Length; i += 4)
        {
            word.Clear();
            data[i..Math.Min(data.Length, i + 4)].CopyTo(word);
            words.Add("0x" + BinaryPrimitives.ReadUInt32LittleEndian(word).ToString("x8", Invariant));
        }
        return words.Count == 0 ? "0x" : string.Join(' ', words);
    }
}
