using System.Buffers.Binary;
using System.Net.Sockets;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Logging;

/// <summary>
/// Decodes one <c>NFULNL_MSG_PACKET</c> (the payload after its <c>nlmsghdr</c>: <c>struct nfgenmsg</c>, then
/// <c>NFULA_*</c> attributes) into an <see cref="NflogPacket"/>, without allocating and without throwing: an attribute
/// that overruns the message, or a copied packet that ends inside its headers, only sets
/// <see cref="NflogPacket.Truncated"/> and leaves what could not be read unknown.
/// </summary>
internal static class NflogDecoder
{
    private const int NfgenHeaderSize = 4, AttributeHeaderSize = 4;
    private const int Ipv4HeaderSize = 20, Ipv6HeaderSize = 40;
    private const int MaxExtensionHeaders = 8; // more than any real packet carries; bounds a crafted loop
    private const ushort AttributeTypeMask = 0x3fff; // without NLA_F_NESTED and NLA_F_NET_BYTEORDER

    // IPv6 extension headers (RFC 8200 4.1) and the L4 protocols whose first four bytes are two ports.
    private const byte HopByHop = 0, Routing = 43, Fragment = 44, Esp = 50, Ah = 51, NoNextHeader = 59, DestinationOptions = 60;
    private const byte Icmp = 1, Tcp = 6, Udp = 17, Dccp = 33, IcmpV6 = 58, Sctp = 132, UdpLite = 136;

    /// <summary>Whether <paramref name="messageType"/> (<c>nlmsg_type</c>) is an NFLOG packet.</summary>
    public static bool IsPacket(ushort messageType) =>
        messageType == (((int)NfnetlinkSubsystem.ULOG << 8) | (int)NfulnlMessageType.PACKET);

    /// <summary>Decodes the payload (after <c>nlmsghdr</c>) of an NFLOG packet message.</summary>
    public static NflogPacket Decode(ReadOnlySpan<byte> payload)
    {
        var packet = NflogPacket.Empty;
        if (payload.Length < NfgenHeaderSize)
        {
            packet.Truncated = true;
            return packet;
        }
        packet.Family = payload[0] switch
        {
            (byte)NetfilterFamily.IPV4 => AddressFamily.InterNetwork,
            (byte)NetfilterFamily.IPV6 => AddressFamily.InterNetworkV6,
            _ => AddressFamily.Unspecified,
        };
        ReadOnlySpan<byte> ip = default;
        bool hasPayload = false;
        var attributes = payload[NfgenHeaderSize..];
        while (!attributes.IsEmpty)
        {
            if (attributes.Length < AttributeHeaderSize)
            {
                packet.Truncated = true;
                break;
            }
            int length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            if (length < AttributeHeaderSize || length > attributes.Length)
            {
                packet.Truncated = true;
                break;
            }
            var value = attributes[AttributeHeaderSize..length];
            switch ((NfulaAttribute)(BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & AttributeTypeMask))
            {
                case NfulaAttribute.PACKET_HDR when value.Length >= 4: // struct nfulnl_msg_packet_hdr
                    packet.Hook = value[2];
                    break;
                case NfulaAttribute.TIMESTAMP when value.Length >= 16: // struct nfulnl_msg_packet_timestamp
                    long seconds = (long)BinaryPrimitives.ReadUInt64BigEndian(value), micros = (long)BinaryPrimitives.ReadUInt64BigEndian(value[8..]);
                    if (seconds is >= 0 and < 253402300800 && micros is >= 0 and < 1_000_000) // up to year 9999
                        packet.TimestampMicroseconds = seconds * 1_000_000 + micros;
                    break;
                case NfulaAttribute.IFINDEX_INDEV when value.Length >= 4:
                    packet.InputIndex = BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
                case NfulaAttribute.IFINDEX_OUTDEV when value.Length >= 4:
                    packet.OutputIndex = BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
                case NfulaAttribute.UID when value.Length >= 4:
                    packet.Uid = BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
                case NfulaAttribute.GID when value.Length >= 4:
                    packet.Gid = BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
                case NfulaAttribute.SEQ when value.Length >= 4:
                    packet.Sequence = BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
                case NfulaAttribute.PREFIX:
                    int end = value.IndexOf((byte)0);
                    packet.Prefix = end >= 0 ? value[..end] : value;
                    break;
                case NfulaAttribute.PAYLOAD:
                    ip = value;
                    hasPayload = true;
                    break;
            }
            // The last attribute of a message may be unpadded: never step past the end.
            attributes = attributes[Math.Min((length + 3) & ~3, attributes.Length)..];
        }
        if (!hasPayload)
            packet.Truncated = true; // copy mode "none", or the payload attribute was cut off: no addresses
        else
            ReadIp(ip, ref packet);
        return packet;
    }

    private static void ReadIp(ReadOnlySpan<byte> ip, ref NflogPacket packet)
    {
        packet.PacketLength = ip.Length;
        if (ip.IsEmpty)
        {
            packet.Truncated = true;
            return;
        }
        switch (ip[0] >> 4)
        {
            case 4:
                packet.Family = AddressFamily.InterNetwork;
                ReadIpv4(ip, ref packet);
                break;
            case 6:
                packet.Family = AddressFamily.InterNetworkV6;
                ReadIpv6(ip, ref packet);
                break;
            default:
                break; // not IP: a record with the metadata only
        }
    }

    private static void ReadIpv4(ReadOnlySpan<byte> ip, ref NflogPacket packet)
    {
        if (ip.Length < Ipv4HeaderSize)
        {
            packet.Truncated = true;
            return;
        }
        packet.PacketLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        packet.Protocol = ip[9];
        packet.Source = ip[12..16];
        packet.Destination = ip[16..20];
        int headerLength = (ip[0] & 0x0f) * 4;
        if (headerLength < Ipv4HeaderSize)
        {
            packet.Truncated = true; // a lying IHL: the L4 header cannot be found
            return;
        }
        if ((BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x1fff) != 0)
            return; // a later fragment: it carries no L4 header
        ReadL4(ip, headerLength, packet.Protocol, ref packet);
    }

    private static void ReadIpv6(ReadOnlySpan<byte> ip, ref NflogPacket packet)
    {
        if (ip.Length < Ipv6HeaderSize)
        {
            packet.Truncated = true;
            return;
        }
        packet.PacketLength = Ipv6HeaderSize + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        packet.Source = ip[8..24];
        packet.Destination = ip[24..40];
        byte next = ip[6];
        int offset = Ipv6HeaderSize;
        for (int i = 0; i <= MaxExtensionHeaders; i++)
        {
            switch (next)
            {
                case HopByHop or Routing or DestinationOptions or Fragment or Ah:
                    if (i == MaxExtensionHeaders || ip.Length < offset + 8) // every extension header is at least 8 bytes
                    {
                        packet.Truncated = true;
                        return;
                    }
                    var header = ip[offset..];
                    if (next == Fragment && (BinaryPrimitives.ReadUInt16BigEndian(header[2..]) & 0xfff8) != 0)
                    {
                        packet.Protocol = header[0];
                        return; // a later fragment: no L4 header
                    }
                    offset += next switch
                    {
                        Fragment => 8,
                        Ah => (header[1] + 2) * 4, // RFC 4302: length in 4-byte units, minus 2
                        _ => (header[1] + 1) * 8,
                    };
                    next = header[0];
                    continue;
                case Esp or NoNextHeader:
                    packet.Protocol = next; // encrypted or empty: no ports to read
                    return;
                default:
                    packet.Protocol = next;
                    ReadL4(ip, offset, next, ref packet);
                    return;
            }
        }
    }

    private static void ReadL4(ReadOnlySpan<byte> ip, int offset, int protocol, ref NflogPacket packet)
    {
        switch (protocol)
        {
            case Tcp or Udp or UdpLite or Sctp or Dccp:
                if (ip.Length < offset + 4)
                {
                    packet.Truncated = true;
                    return;
                }
                packet.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(ip[offset..]);
                packet.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(ip[(offset + 2)..]);
                break;
            case Icmp or IcmpV6:
                if (ip.Length < offset + 2)
                {
                    packet.Truncated = true;
                    return;
                }
                packet.IcmpType = ip[offset];
                packet.IcmpCode = ip[offset + 1];
                break;
        }
    }
}
