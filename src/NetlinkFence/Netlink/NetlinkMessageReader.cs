using System.Buffers.Binary;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>
/// Iterates the messages of one received datagram with strict bounds checks. A lying length
/// raises <see cref="NetlinkDecodeException"/>; nothing is ever read past the datagram. Works for any
/// netlink protocol: <c>while (reader.TryRead(out var message)) ...</c>.
/// </summary>
public ref struct NetlinkMessageReader
{
    private ReadOnlySpan<byte> _remaining;
    private int _offset;

    /// <summary>Creates a reader over the bytes of one received datagram (or several messages written back to back).</summary>
    public NetlinkMessageReader(ReadOnlySpan<byte> datagram)
    {
        _remaining = datagram;
        _offset = 0;
    }

    /// <summary>Offset of the next message within the datagram.</summary>
    public readonly int Offset => _offset;

    /// <summary>Reads the next message; false when the datagram is exhausted.</summary>
    /// <exception cref="NetlinkDecodeException">The next message is truncated or its length lies.</exception>
    public bool TryRead(out NetlinkMessage message)
    {
        if (_remaining.IsEmpty)
        {
            message = default;
            return false;
        }
        if (_remaining.Length < NetlinkAlignment.MessageHeaderSize)
            throw new NetlinkDecodeException(
                $"truncated netlink message at offset {_offset}: {_remaining.Length} bytes left, a header needs {NetlinkAlignment.MessageHeaderSize}");
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(_remaining);
        if (length < NetlinkAlignment.MessageHeaderSize || length > (uint)_remaining.Length)
            throw new NetlinkDecodeException(
                $"netlink message at offset {_offset} claims {length} bytes; {_remaining.Length} are left and a header needs {NetlinkAlignment.MessageHeaderSize}");
        message = new NetlinkMessage(
            BinaryPrimitives.ReadUInt16LittleEndian(_remaining[4..]),
            (NetlinkMessageFlags)BinaryPrimitives.ReadUInt16LittleEndian(_remaining[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(_remaining[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(_remaining[12..]),
            _remaining[NetlinkAlignment.MessageHeaderSize..(int)length]);
        // Some subsystems (nflog, conntrack) send an unaligned last message: never step past the end.
        int step = Math.Min(NetlinkAlignment.Align((int)length), _remaining.Length);
        _remaining = _remaining[step..];
        _offset += step;
        return true;
    }
}
