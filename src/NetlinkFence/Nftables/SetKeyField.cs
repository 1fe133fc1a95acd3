using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace NetlinkFence.Nftables;

/// <summary>
/// One typed field of a set element's key: a value, or an inclusive range of values (a CIDR, a port range) for
/// interval sets. Pass one or more to <see cref="SetElement.Of"/>; several fields make a concatenation
/// (<c>203.0.113.7 . tcp . 443</c>). Addresses, networks and protocols convert implicitly.
/// </summary>
public readonly struct SetKeyField
{
    private SetKeyField(SetKeyType type, DataValue first, DataValue last)
    {
        Type = type;
        First = first;
        Last = last;
    }

    /// <summary>The nft data type of the field (what the set's key must declare at this position).</summary>
    public SetKeyType Type { get; }

    /// <summary>The field's value, or the first value of its range, unpadded, in the type's byte order.</summary>
    public DataValue First { get; }

    /// <summary>The last value of the range (inclusive); equal to <see cref="First"/> for a single value.</summary>
    public DataValue Last { get; }

    /// <summary>True when the field covers more than one value.</summary>
    public bool IsRange => First != Last;

    /// <summary>An IPv4 (<c>ipv4_addr</c>) or IPv6 (<c>ipv6_addr</c>) address. An IPv4-mapped IPv6 address stays IPv6.</summary>
    public static SetKeyField Address(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var bytes = DataValue.Own(address.GetAddressBytes());
        return new(TypeOf(address.AddressFamily), bytes, bytes);
    }

    /// <summary>A network (<c>10.0.0.0/8</c>) as the range of its addresses; host bits of the base address are refused.</summary>
    public static SetKeyField Network(IPNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network.BaseAddress);
        byte[] first = network.BaseAddress.GetAddressBytes(), last = (byte[])first.Clone();
        for (int bit = network.PrefixLength; bit < last.Length * 8; bit++)
            last[bit / 8] |= (byte)(0x80 >> (bit % 8));
        return new(TypeOf(network.BaseAddress.AddressFamily), DataValue.Own(first), DataValue.Own(last));
    }

    /// <summary>The addresses from <paramref name="first"/> to <paramref name="last"/>, both included, of one family.</summary>
    public static SetKeyField AddressRange(IPAddress first, IPAddress last)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(last);
        if (first.AddressFamily != last.AddressFamily)
            throw new ArgumentException($"address range {first}-{last} mixes IPv4 and IPv6", nameof(last));
        DataValue from = DataValue.Own(first.GetAddressBytes()), to = DataValue.Own(last.GetAddressBytes());
        return InOrder(from, to) ? new(TypeOf(first.AddressFamily), from, to) : throw Reversed($"{first}-{last}");
    }

    /// <summary>A transport port (<c>inet_service</c>, 2 bytes, network order).</summary>
    public static SetKeyField Port(ushort port) => Ports(port, port);

    /// <summary>The ports <paramref name="first"/> to <paramref name="last"/>, both included.</summary>
    public static SetKeyField Ports(ushort first, ushort last) =>
        first <= last ? new(SetKeyType.InetService, DataValue.BigEndian16(first), DataValue.BigEndian16(last)) : throw Reversed($"{first}-{last}");

    /// <summary>An IP protocol (<c>inet_proto</c>, 1 byte), e.g. <see cref="ProtocolType.Tcp"/>.</summary>
    public static SetKeyField Protocol(ProtocolType protocol) =>
        (int)protocol is >= 0 and <= byte.MaxValue
            ? Protocol((byte)protocol)
            : throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "an IP protocol number is 0..255");

    /// <summary>An IP protocol by number (<c>inet_proto</c>, 1 byte).</summary>
    public static SetKeyField Protocol(byte protocol)
    {
        var value = DataValue.Own([protocol]);
        return new(SetKeyType.InetProto, value, value);
    }

    /// <summary>A packet mark (<c>mark</c>, 4 bytes in host order, as nft stores meta keys).</summary>
    public static SetKeyField Mark(uint mark)
    {
        var value = DataValue.HostOrder32(mark);
        return new(SetKeyType.Mark, value, value);
    }

    /// <summary>The marks <paramref name="first"/> to <paramref name="last"/>, both included.</summary>
    public static SetKeyField Marks(uint first, uint last) => first <= last
        ? new(SetKeyType.Mark, DataValue.HostOrder32(first), DataValue.HostOrder32(last))
        : throw new ArgumentException($"mark range {first}-{last} ends before it starts", nameof(last));

    /// <summary>A socket's user id (<c>uid</c>), in network order as interval concatenations store it.</summary>
    public static SetKeyField Uid(uint uid)
    {
        var value = DataValue.BigEndian32(uid);
        return new(SetKeyType.Uid, value, value);
    }

    /// <summary>A cgroup v2 id (<c>cgroupsv2</c>, the inode number of the cgroup's directory), in network order as interval concatenations store it.</summary>
    public static SetKeyField CgroupId(ulong id)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, id);
        var value = DataValue.Own(bytes);
        return new(SetKeyType.CgroupV2, value, value);
    }

    /// <summary>An address field (<see cref="Address"/>).</summary>
    public static implicit operator SetKeyField(IPAddress address) => Address(address);

    /// <summary>A network field (<see cref="Network"/>).</summary>
    public static implicit operator SetKeyField(IPNetwork network) => Network(network);

    /// <summary>A protocol field (<see cref="Protocol(ProtocolType)"/>).</summary>
    public static implicit operator SetKeyField(ProtocolType protocol) => Protocol(protocol);

    /// <summary>nft's text: <c>443</c>, <c>10.0.0.0/8</c>, <c>1000-2000</c>.</summary>
    public override string ToString() =>
        Rendering.SetElementFormatter.FormatRange(Type, First.Span.ToArray(), Last.Span.ToArray());

    /// <summary>True when <see cref="Last"/> is the type's largest value: a range to it has no "first value past the end".</summary>
    internal bool EndsAtMaximum => Last.Span.IndexOfAnyExcept((byte)0xff) < 0;

    /// <summary>The first value past <see cref="Last"/> in the type's byte order (nft's exclusive interval end).</summary>
    internal DataValue PastLast()
    {
        byte[] next = Last.Span.ToArray();
        if (Type.IsBigEndian())
        {
            for (int i = next.Length - 1; i >= 0 && ++next[i] == 0; i--) { }
        }
        else
        {
            for (int i = 0; i < next.Length && ++next[i] == 0; i++) { }
        }
        return DataValue.Own(next);
    }

    private static bool InOrder(DataValue first, DataValue last) => first.Span.SequenceCompareTo(last.Span) <= 0;

    // The range's text is made only for the error: a refresh round builds thousands of fields.
    private static ArgumentException Reversed(string range) => new($"range {range} ends before it starts", "last");

    private static SetKeyType TypeOf(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => SetKeyType.Ipv4Address,
        AddressFamily.InterNetworkV6 => SetKeyType.Ipv6Address,
        _ => throw new ArgumentException($"{family} is not an IP address family"),
    };
}
