using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>
/// Writes netlink messages and attributes into a caller-provided span. Lengths of messages and nests are
/// back-patched when they end. Nothing here allocates.
/// </summary>
/// <remarks>
/// <code>
///  struct nlmsghdr (host order)        struct nfgenmsg          struct nlattr (host order)
///  +--------+------+-------+-----+----+ +------+-----+--------+ +-------+------+---------------+
///  | len u32|type16|flags16|seq32|pid | |fam u8|ver u8|res_id | |len u16|type16| payload, pad4 |
///  +--------+------+-------+-----+----+ +------+-----+ BE u16 + +-------+------+---------------+
/// </code>
/// nf_tables attributes carry integers in network byte order (NLA_BE16/BE32/BE64).
/// </remarks>
internal ref struct NetlinkWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public NetlinkWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _position;

    /// <summary>The bytes written so far.</summary>
    public readonly ReadOnlySpan<byte> Written => _buffer[.._position];

    /// <summary>Starts a message with an nfgenmsg header; returns the token for <see cref="EndMessage"/>.</summary>
    public int BeginMessage(ushort type, NetlinkMessageFlags flags, uint sequence, byte family, ushort resourceId = 0)
    {
        int start = _position;
        Span<byte> header = Reserve(NetlinkAlignment.MessageHeaderSize + NetlinkAlignment.NfgenHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0); // patched by EndMessage
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], (ushort)flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0); // port id: the kernel fills in ours
        header[16] = family;
        header[17] = (byte)NfnetlinkVersion.V0;
        BinaryPrimitives.WriteUInt16BigEndian(header[18..], resourceId);
        return start;
    }

    /// <summary>Ends the message started at <paramref name="start"/> by writing its length.</summary>
    public readonly void EndMessage(int start) =>
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer[start..], (uint)(_position - start));

    /// <summary>Starts a nested attribute (NLA_F_NESTED); returns the token for <see cref="EndNested"/>.</summary>
    public int BeginNested(ushort type)
    {
        int start = _position;
        Span<byte> header = Reserve(NetlinkAlignment.AttributeHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], (ushort)(type | (ushort)NetlinkAttributeFlags.F_NESTED));
        return start;
    }

    /// <summary>Ends the nested attribute started at <paramref name="start"/>.</summary>
    public readonly void EndNested(int start)
    {
        int length = _position - start;
        if (length > NetlinkAlignment.MaxAttributeLength)
            ThrowAttributeTooLong(length);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[start..], (ushort)length);
    }

    public void WriteU8(ushort type, byte value) => Attribute(type, 1)[0] = value;

    public void WriteU16BigEndian(ushort type, ushort value) =>
        BinaryPrimitives.WriteUInt16BigEndian(Attribute(type, 2), value);

    public void WriteU32BigEndian(ushort type, uint value) =>
        BinaryPrimitives.WriteUInt32BigEndian(Attribute(type, 4), value);

    public void WriteU64BigEndian(ushort type, ulong value) =>
        BinaryPrimitives.WriteUInt64BigEndian(Attribute(type, 8), value);

    public void WriteBytes(ushort type, ReadOnlySpan<byte> value) => value.CopyTo(Attribute(type, value.Length));

    /// <summary>Writes a NUL-terminated UTF-8 string attribute (NLA_STRING / NLA_NUL_STRING).</summary>
    public void WriteString(ushort type, string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        Span<byte> payload = Attribute(type, length + 1);
        Encoding.UTF8.GetBytes(value, payload);
        payload[length] = 0;
    }

    /// <summary>
    /// Reserves an attribute of <paramref name="length"/> payload bytes (padding zeroed) and returns the
    /// payload for the caller to fill.
    /// </summary>
    public Span<byte> Attribute(ushort type, int length)
    {
        int total = NetlinkAlignment.AttributeHeaderSize + length;
        if (total > NetlinkAlignment.MaxAttributeLength)
            ThrowAttributeTooLong(total);
        Span<byte> span = Reserve(NetlinkAlignment.Align(total));
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)total);
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], type);
        span[total..].Clear();
        return span.Slice(NetlinkAlignment.AttributeHeaderSize, length);
    }

    /// <summary>Reserves raw bytes (already aligned by the caller) and returns them.</summary>
    public Span<byte> Reserve(int length)
    {
        if (length > _buffer.Length - _position)
            ThrowFull(length);
        Span<byte> span = _buffer.Slice(_position, length);
        _position += length;
        return span;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void ThrowFull(int length) =>
        throw new NetlinkEncodingException(
            $"message does not fit its buffer ({_position} + {length} > {_buffer.Length} bytes); a single nf_tables message is limited to 64 KiB of attributes");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowAttributeTooLong(int length) =>
        throw new NetlinkEncodingException(
            $"attribute of {length} bytes exceeds the netlink limit of {NetlinkAlignment.MaxAttributeLength} (nla_len is 16-bit); split the object");
}
