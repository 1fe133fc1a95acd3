using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>
/// Writes netlink messages and attributes of any protocol into a caller-provided span. Lengths of messages
/// and nests are back-patched when they end. Nothing here allocates.
/// </summary>
/// <remarks>
/// <code>
///  struct nlmsghdr (host order)          family header         struct nlattr (host order)
///  +--------+------+-------+-----+-----+ +-----------------+  +-------+------+---------------+
///  | len u32|type16|flags16|seq32|pid32| | e.g. nfgenmsg   |  |len u16|type16| payload, pad4 |
///  +--------+------+-------+-----+-----+ +-----------------+  +-------+------+---------------+
/// </code>
/// <see cref="BeginMessage"/> writes only the <c>nlmsghdr</c>; a protocol's fixed header follows with
/// <see cref="Reserve"/> (or, for nfnetlink, <see cref="Nfnetlink.BeginNfnetlinkMessage"/>). nf_tables
/// attributes carry integers in network byte order (the <c>...BigEndian</c> methods); most other netlink
/// families use host order (<see cref="WriteU16"/>, <see cref="WriteU32"/>, <see cref="WriteU64"/>).
/// <example>
/// <code>
/// Span&lt;byte&gt; buffer = stackalloc byte[256];
/// var writer = new NetlinkWriter(buffer);
/// var message = writer.BeginMessage(type, NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.ACK, sequence);
/// writer.Reserve(16).Clear();                 // the protocol's fixed header, e.g. struct ifinfomsg
/// var nest = writer.BeginNested(1);
/// writer.WriteString(2, "eth0");
/// writer.EndNested(nest);
/// writer.EndMessage(message);
/// socket.Send(writer.Written);
/// </code>
/// </example>
/// </remarks>
public ref struct NetlinkWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    /// <summary>Creates a writer that fills <paramref name="buffer"/> from its start.</summary>
    public NetlinkWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _position;

    /// <summary>The bytes written so far.</summary>
    public readonly ReadOnlySpan<byte> Written => _buffer[.._position];

    /// <summary>
    /// Starts a message by writing its <c>nlmsghdr</c> (port id 0: the kernel fills in the sender's);
    /// returns the token for <see cref="EndMessage"/>.
    /// </summary>
    /// <param name="type"><c>nlmsg_type</c>, e.g. <c>RTM_GETLINK</c> or an nfnetlink (subsystem &lt;&lt; 8 | message) type.</param>
    /// <param name="flags"><c>nlmsg_flags</c>.</param>
    /// <param name="sequence"><c>nlmsg_seq</c>, echoed by the kernel in its replies.</param>
    /// <exception cref="NetlinkEncodingException">The buffer has no room for the header.</exception>
    public NetlinkMessageToken BeginMessage(ushort type, NetlinkMessageFlags flags, uint sequence)
    {
        int start = _position;
        Span<byte> header = Reserve(NetlinkAlignment.MessageHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0); // patched by EndMessage
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], (ushort)flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0); // port id: the kernel fills in ours
        return new NetlinkMessageToken(start);
    }

    /// <summary>Ends the message <paramref name="message"/> by writing its length (<c>nlmsg_len</c>).</summary>
    public readonly void EndMessage(NetlinkMessageToken message) =>
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer[message.Offset..], (uint)(_position - message.Offset));

    /// <summary>Starts a nested attribute (type with <c>NLA_F_NESTED</c>); returns the token for <see cref="EndNested"/>.</summary>
    /// <exception cref="NetlinkEncodingException">The buffer has no room for the attribute header.</exception>
    public NetlinkNestToken BeginNested(ushort type)
    {
        int start = _position;
        Span<byte> header = Reserve(NetlinkAlignment.AttributeHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], (ushort)(type | (ushort)NetlinkAttributeFlags.F_NESTED));
        return new NetlinkNestToken(start);
    }

    /// <summary>Ends the nested attribute <paramref name="nest"/> by writing its length (<c>nla_len</c>).</summary>
    /// <exception cref="NetlinkEncodingException">The nest grew past 65,535 bytes (<c>nla_len</c> is 16-bit).</exception>
    public readonly void EndNested(NetlinkNestToken nest)
    {
        int length = _position - nest.Offset;
        if (length > NetlinkAlignment.MaxAttributeLength)
            ThrowAttributeTooLong(length);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[nest.Offset..], (ushort)length);
    }

    /// <summary>Writes an attribute with a one-byte payload.</summary>
    public void WriteU8(ushort type, byte value) => Attribute(type, 1)[0] = value;

    /// <summary>Writes a 16-bit attribute in host byte order (<c>NLA_U16</c>).</summary>
    public void WriteU16(ushort type, ushort value) => MemoryMarshal.Write(Attribute(type, 2), in value);

    /// <summary>Writes a 32-bit attribute in host byte order (<c>NLA_U32</c>).</summary>
    public void WriteU32(ushort type, uint value) => MemoryMarshal.Write(Attribute(type, 4), in value);

    /// <summary>Writes a 64-bit attribute in host byte order (<c>NLA_U64</c>).</summary>
    public void WriteU64(ushort type, ulong value) => MemoryMarshal.Write(Attribute(type, 8), in value);

    /// <summary>Writes a 16-bit attribute in network byte order (<c>NLA_BE16</c>).</summary>
    public void WriteU16BigEndian(ushort type, ushort value) =>
        BinaryPrimitives.WriteUInt16BigEndian(Attribute(type, 2), value);

    /// <summary>Writes a 32-bit attribute in network byte order (<c>NLA_BE32</c>).</summary>
    public void WriteU32BigEndian(ushort type, uint value) =>
        BinaryPrimitives.WriteUInt32BigEndian(Attribute(type, 4), value);

    /// <summary>Writes a 64-bit attribute in network byte order (<c>NLA_BE64</c>).</summary>
    public void WriteU64BigEndian(ushort type, ulong value) =>
        BinaryPrimitives.WriteUInt64BigEndian(Attribute(type, 8), value);

    /// <summary>Writes an attribute whose payload is <paramref name="value"/> (<c>NLA_BINARY</c>).</summary>
    public void WriteBytes(ushort type, ReadOnlySpan<byte> value) => value.CopyTo(Attribute(type, value.Length));

    /// <summary>Writes a NUL-terminated UTF-8 string attribute (<c>NLA_STRING</c> / <c>NLA_NUL_STRING</c>).</summary>
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
    /// <exception cref="NetlinkEncodingException">The attribute would exceed 65,535 bytes, or the buffer is full.</exception>
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

    /// <summary>
    /// Reserves raw bytes (a protocol's fixed header; the caller keeps them 4-byte aligned) and returns them
    /// unzeroed for the caller to fill.
    /// </summary>
    /// <exception cref="NetlinkEncodingException">The buffer is full.</exception>
    public Span<byte> Reserve(int length)
    {
        if ((uint)length > (uint)(_buffer.Length - _position))
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
