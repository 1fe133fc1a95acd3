using System.Buffers.Binary;
using System.Text;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>One attribute: its type (flag bits masked off), whether it is nested, and its payload.</summary>
internal readonly ref struct NetlinkAttribute
{
    public NetlinkAttribute(ushort rawType, ReadOnlySpan<byte> payload, int offset)
    {
        RawType = rawType;
        Payload = payload;
        Offset = offset;
    }

    /// <summary>nla_type including the NLA_F_NESTED and NLA_F_NET_BYTEORDER bits.</summary>
    public ushort RawType { get; }

    /// <summary>The attribute type without flag bits.</summary>
    public ushort Type => (ushort)(RawType & ~(ushort)(NetlinkAttributeFlags.F_NESTED | NetlinkAttributeFlags.F_NET_BYTEORDER));

    public bool IsNested => (RawType & (ushort)NetlinkAttributeFlags.F_NESTED) != 0;

    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>Offset of the attribute header within the span its reader was given.</summary>
    public int Offset { get; }

    public byte U8() => Payload.Length == 1 ? Payload[0] : throw WrongLength(1);

    public ushort U16BigEndian() => Payload.Length == 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : throw WrongLength(2);

    public uint U32BigEndian() => Payload.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(Payload) : throw WrongLength(4);

    public ulong U64BigEndian() => Payload.Length == 8 ? BinaryPrimitives.ReadUInt64BigEndian(Payload) : throw WrongLength(8);

    /// <summary>A NUL-terminated (or unterminated) UTF-8 string.</summary>
    public string String()
    {
        ReadOnlySpan<byte> bytes = Payload;
        int end = bytes.IndexOf((byte)0);
        if (end >= 0)
            bytes = bytes[..end];
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>The attributes nested inside this one.</summary>
    public AttributeReader Nested() => new(Payload);

    private NetlinkDecodeException WrongLength(int expected) =>
        new($"attribute type {Type} at offset {Offset} has {Payload.Length} payload bytes, expected {expected}");
}
