using System.Net.Sockets;

namespace NetlinkFence.Logging;

/// <summary>
/// One decoded <c>NFULNL_MSG_PACKET</c>, as views into the received datagram: what <see cref="NflogDecoder"/> reads
/// without allocating. Valid only as long as the datagram's buffer is. Fields the message did not carry (or a
/// truncated packet did not reach) are -1 or empty; <see cref="DenialRecordFactory"/> turns it into a <see cref="DenialRecord"/>.
/// </summary>
internal ref struct NflogPacket
{
    /// <summary>The netfilter hook that logged it (<c>NF_INET_*</c>), or -1.</summary>
    public int Hook;

    /// <summary>IPv4 or IPv6 (from the IP version nibble, else from <c>nfgen_family</c>), or Unspecified.</summary>
    public AddressFamily Family;

    /// <summary>The layer-4 protocol number (after IPv6 extension headers), or -1.</summary>
    public int Protocol;

    /// <summary>4 or 16 bytes, or empty.</summary>
    public ReadOnlySpan<byte> Source, Destination;

    /// <summary>TCP/UDP/SCTP/UDP-Lite/DCCP ports, ICMP type and code, or -1.</summary>
    public int SourcePort, DestinationPort, IcmpType, IcmpCode;

    /// <summary><c>NFULA_UID</c>/<c>NFULA_GID</c> (the sending socket's file credentials), or -1.</summary>
    public long Uid, Gid;

    /// <summary><c>NFULA_SEQ</c>, the instance's own sequence number, or -1.</summary>
    public long Sequence;

    /// <summary><c>NFULA_IFINDEX_INDEV</c>/<c>OUTDEV</c>, or 0.</summary>
    public uint InputIndex, OutputIndex;

    /// <summary><c>NFULA_TIMESTAMP</c> as Unix microseconds, or -1 (the kernel sends none for most locally sent packets).</summary>
    public long TimestampMicroseconds;

    /// <summary><c>NFULA_PREFIX</c> without its NUL, or empty.</summary>
    public ReadOnlySpan<byte> Prefix;

    /// <summary>The packet's length on the wire (from the IP header), or the bytes copied when the header is cut.</summary>
    public int PacketLength;

    /// <summary>True when the message or the copied packet ended before what this record would have read.</summary>
    public bool Truncated;

    /// <summary>An empty packet: every field unknown.</summary>
    public static NflogPacket Empty => new()
    {
        Hook = -1, Protocol = -1, SourcePort = -1, DestinationPort = -1, IcmpType = -1, IcmpCode = -1,
        Uid = -1, Gid = -1, Sequence = -1, TimestampMicroseconds = -1,
    };
}
