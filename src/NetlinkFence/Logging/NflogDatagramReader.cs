using System.Buffers.Binary;

namespace NetlinkFence.Logging;

/// <summary>
/// Walks the messages of one NFLOG datagram (the kernel batches up to the queue threshold into one) and decodes each
/// packet message: <c>while (reader.TryRead(out var packet)) ...</c>. Not <see cref="Netlink.NetlinkMessageReader"/>:
/// a malformed message must end only the rest of its datagram, never throw into the stream. Allocation-free.
/// </summary>
internal ref struct NflogDatagramReader(ReadOnlySpan<byte> datagram)
{
    private const int MessageHeaderSize = 16; // struct nlmsghdr
    private ReadOnlySpan<byte> _rest = datagram;

    /// <summary>The next packet message's contents; false when the datagram holds no more (others are skipped).</summary>
    public bool TryRead(out NflogPacket packet)
    {
        while (_rest.Length >= MessageHeaderSize)
        {
            int length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(_rest), (uint)_rest.Length);
            if (length < MessageHeaderSize)
                break; // a length that cannot be: nothing after it can be trusted
            var message = _rest[MessageHeaderSize..length];
            bool isPacket = NflogDecoder.IsPacket(BinaryPrimitives.ReadUInt16LittleEndian(_rest[4..]));
            _rest = _rest[Math.Min((length + 3) & ~3, _rest.Length)..];
            if (isPacket)
            {
                packet = NflogDecoder.Decode(message);
                return true;
            }
        }
        _rest = default;
        packet = default;
        return false;
    }
}
