using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>
/// One attribute read by <see cref="AttributeReader"/>: its type (flag bits masked off), whether it is nested,
/// and a view of its payload. The typed getters check the payload length and throw
/// <see cref="NetlinkDecodeException"/> when it differs.
/// </summary>
public readonly ref struct NetlinkAttribute
{
    /// <summary>Creates a view of one attribute (normally done by <see cref="AttributeReader"/>).</summary>
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

    /// <summary>Whether <c>NLA_F_NESTED</c> is set (nf_tables sets it on every nest; older families do not).</summary>
    public bool IsNested => (RawType & (ushort)NetlinkAttributeFlags.F_NESTED) != 0;

    /// <summary>The payload, without header or padding.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>Offset of the attribute header within the span its reader was given.</summary>
    public int Offset { get; }

    /// <summary>A one-byte payload.</summary>
    public byte U8() => Payload.Length == 1 ? Payload[0] : throw WrongLength(1);

    /// <summary>A 16-bit payload in host byte order (<c>NLA_U16</c>).</summary>
    public ushort U16() => Payload.Length == 2 ? MemoryMarshal.Read<ushort>(Payload) : throw WrongLength(2);

    /// <summary>A 32-bit payload in host byte order (<c>NLA_U32</c>).</summary>
    public uint U32() => Payload.Length == 4 ? MemoryMarshal.Read<uint>(Payload) : throw WrongLength(4);

    /// <summary>A 64-bit payload in host byte order (<c>NLA_U64</c>).</summary>
    public ulong U64() => Payload.Length == 8 ? MemoryMarshal.Read<ulong>(Payload) : throw WrongLength(8);

    /// <summary>A 16-bit payload in network byte order (<c>NLA_BE16</c>).</summary>
    public ushort U16BigEndian() => Payload.Length == 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : throw WrongLength(2);

    /// <summary>A 32-bit payload in network byte order (<c>NLA_BE32</c>).</summary>
    public uint U32BigEndian() => Payload.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(Payload) : throw WrongLength(4);

    /// <summary>A 64-bit payload in network byte order (<c>NLA_BE64</c>).</summary>
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
