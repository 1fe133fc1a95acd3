using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using NetlinkFence.Logging;

namespace NetlinkFence.Tests.Logging;

/// <summary>
/// The NFLOG decoder on real messages the kernel sent (captured by <see cref="NflogCaptureTests"/> on kernel 6.18,
/// kept as hex) and on malformed ones made from them: whatever is cut or unknown gives a record with what could be
/// read, never an exception. Rootless.
/// </summary>
public sealed class NflogDecoderTests
{
    /// <summary>udp 203.0.113.2:59335 -> 198.51.100.7:123 "ntp\n" from uid/gid 65534, hook LOCAL_OUT, oif 2, seq 0.</summary>
    private static readonly byte[] UdpV4 = Convert.FromHexString(
        "7400000000040000000000000000000002000064080001000800030014000A004547524553532D44454E4945443A2000080005000000000208000B000000FFFE08000E000000FFFE08000C000000000024000900450000207660400040115E2FCB007102C6336407E7C7007B000C665B6E74700A");

    /// <summary>tcp SYN [2001:db8::2]:54400 -> [2001:db8:5::7]:443 from uid 0, seq 1: 80 bytes copied of an 80-byte packet.</summary>
    private static readonly byte[] TcpV6 = Convert.FromHexString(
        "A40000000004000000000000000000000A0000640800010086DD030014000A004547524553532D44454E4945443A2000080005000000000208000B000000000008000E000000000008000C000000000154000900600AF7AA0028064020010DB800000000000000000000000220010DB8000500000000000000000007D48001BB6B8973E900000000A002FD205BAE0000020405A00402080A2C53D338000000000103030A");

    private const int NlmsgHeader = 16;

    private static DenialRecord Record(byte[] message) => Record(message.AsSpan(NlmsgHeader));

    private static DenialRecord Record(ReadOnlySpan<byte> payload) =>
        new DenialRecordFactory(new InterfaceNames(null), new UserNames("/nonexistent")).Create(NflogDecoder.Decode(payload), DateTimeOffset.UnixEpoch);

    [Fact]
    public void A_captured_udp_over_ipv4_denial_decodes_whole()
    {
        Assert.True(NflogDecoder.IsPacket(BinaryPrimitives.ReadUInt16LittleEndian(UdpV4.AsSpan(4))));
        var r = Record(UdpV4);
        Assert.Equal((AddressFamily.InterNetwork, ProtocolType.Udp), (r.Family, r.Protocol));
        Assert.Equal((IPAddress.Parse("203.0.113.2"), (ushort?)59335), (r.Source, r.SourcePort));
        Assert.Equal((IPAddress.Parse("198.51.100.7"), (ushort?)123), (r.Destination, r.DestinationPort));
        Assert.Equal(((uint?)65534, (uint?)65534, (uint?)0), (r.Uid, r.Gid, r.Sequence));
        Assert.Equal(("EGRESS-DENIED: ", "egress_denied", "if2", (string?)null), (r.Prefix, r.Chain, r.OutputInterface, r.InputInterface));
        Assert.Equal((32, false, (byte?)null), (r.PacketLength, r.Truncated, r.IcmpType));
        Assert.Equal(DateTimeOffset.UnixEpoch, r.Time); // no NFULA_TIMESTAMP on a locally sent packet: the receive time
    }

    [Fact]
    public void A_captured_tcp_over_ipv6_denial_decodes_whole()
    {
        var r = Record(TcpV6);
        Assert.Equal((AddressFamily.InterNetworkV6, ProtocolType.Tcp), (r.Family, r.Protocol));
        Assert.Equal((IPAddress.Parse("2001:db8::2"), IPAddress.Parse("2001:db8:5::7"), (ushort?)443), (r.Source, r.Destination, r.DestinationPort));
        Assert.Equal(((uint?)0, (uint?)1, 80, false), (r.Uid, r.Sequence, r.PacketLength, r.Truncated));
    }

    [Theory]
    [InlineData(nameof(UdpV4))]
    [InlineData(nameof(TcpV6))]
    public void Every_truncation_of_a_captured_message_gives_a_record_never_an_exception(string which)
    {
        byte[] message = which == nameof(UdpV4) ? UdpV4 : TcpV6;
        var whole = Record(message);
        for (int length = NlmsgHeader; length < message.Length; length++)
        {
            var r = Record(message.AsSpan(NlmsgHeader, length - NlmsgHeader));
            // Every cut lands inside the attributes before or in the payload (the payload is the last attribute): the
            // ports are never read from a cut packet, and the record says it was cut.
            Assert.True(r.Truncated, $"cut at {length}");
            Assert.Null(r.DestinationPort);
            if (r.Destination is not null)
                Assert.Equal(whole.Destination, r.Destination);
        }
    }

    /// <summary>Builds an NFLOG packet message (nlmsghdr, nfgenmsg, packet header, prefix, seq, payload) around <paramref name="ip"/>.</summary>
    private static byte[] Message(byte family, ReadOnlySpan<byte> ip, byte hook = 3)
    {
        var bytes = new List<byte>(new byte[NlmsgHeader]) { family, 0, 0, 100 };
        void Attribute(ushort type, ReadOnlySpan<byte> value)
        {
            var header = new byte[4];
            BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)(4 + value.Length));
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(2), type);
            bytes.AddRange(header);
            bytes.AddRange(value.ToArray());
            while (bytes.Count % 4 != 0)
                bytes.Add(0);
        }
        Attribute(1, [0x08, 0x00, hook, 0]);
        Attribute(10, "EGRESS-DENIED: \0"u8);
        Attribute(12, [0, 0, 0, 9]);
        Attribute(9, ip);
        byte[] message = [.. bytes];
        BinaryPrimitives.WriteInt32LittleEndian(message, message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), 0x0400); // NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET
        return message;
    }

    private static byte[] Ipv6Packet => TcpV6.AsSpan(TcpV6.Length - 80).ToArray();

    [Fact]
    public void A_truncated_ip_header_gives_the_family_and_no_addresses()
    {
        var r = Record(Message(2, UdpV4.AsSpan(UdpV4.Length - 32, 10)));
        Assert.Equal((AddressFamily.InterNetwork, true, (IPAddress?)null, ProtocolType.Unknown), (r.Family, r.Truncated, r.Destination, r.Protocol));
        Assert.Equal((uint?)9, r.Sequence);
    }

    [Fact]
    public void An_unknown_protocol_gives_addresses_and_protocol_and_no_ports_and_is_not_truncated()
    {
        byte[] ip = UdpV4.AsSpan(UdpV4.Length - 32).ToArray();
        ip[9] = 47; // GRE
        var r = Record(Message(2, ip));
        Assert.Equal(((ProtocolType)47, IPAddress.Parse("198.51.100.7"), (ushort?)null, false), (r.Protocol, r.Destination, r.DestinationPort, r.Truncated));
    }

    [Fact]
    public void A_payload_that_is_not_ip_gives_a_record_with_the_metadata()
    {
        var r = Record(Message(2, [0x00, 1, 2, 3, 4, 5]));
        Assert.Equal((AddressFamily.InterNetwork, (IPAddress?)null, "EGRESS-DENIED: ", false), (r.Family, r.Destination, r.Prefix, r.Truncated));
    }

    /// <summary>The captured IPv6 TCP SYN with <paramref name="extensions"/> (each starting with its next-header byte) inserted before TCP.</summary>
    private static byte[] WithExtensions(params byte[][] extensions)
    {
        byte[] original = Ipv6Packet;
        var packet = new List<byte>(original[..40]);
        byte first = extensions.Length > 0 ? extensions[0][0] : (byte)6;
        for (int i = 0; i < extensions.Length; i++)
        {
            var header = (byte[])extensions[i].Clone();
            header[0] = i + 1 < extensions.Length ? extensions[i + 1][0] : (byte)6; // each header names the next one
            packet.AddRange(header);
        }
        packet.AddRange(original[40..]);
        byte[] bytes = [.. packet];
        bytes[6] = first;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), (ushort)(bytes.Length - 40));
        return bytes;
    }

    // Each array: byte 0 is this header's own protocol number (rewritten to the next header's when inserted), then its body.
    private static readonly byte[] HopByHop = [0, 0, 1, 4, 0, 0, 0, 0];
    private static readonly byte[] DestinationOptions16 = [60, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] Routing = [43, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] FirstFragment = [44, 0, 0, 1, 0, 0, 0, 42];

    [Fact]
    public void Ipv6_extension_headers_are_walked_to_the_tcp_ports()
    {
        var r = Record(Message(10, WithExtensions(HopByHop, DestinationOptions16, Routing, FirstFragment)));
        Assert.Equal((ProtocolType.Tcp, (ushort?)443, false), (r.Protocol, r.DestinationPort, r.Truncated));
        Assert.Equal(IPAddress.Parse("2001:db8:5::7"), r.Destination);
        Assert.Equal(80 + 40, r.PacketLength);
    }

    [Fact]
    public void A_later_ipv6_fragment_has_no_ports_and_is_not_truncated()
    {
        byte[] laterFragment = [44, 0, 0x05, 0x01, 0, 0, 0, 42]; // offset 160 bytes, more fragments
        var r = Record(Message(10, WithExtensions(HopByHop, laterFragment)));
        Assert.Equal((ProtocolType.Tcp, (ushort?)null, false), (r.Protocol, r.DestinationPort, r.Truncated));
    }

    [Fact]
    public void An_extension_header_cut_by_the_copy_range_is_truncated_with_the_addresses_kept()
    {
        byte[] packet = WithExtensions(HopByHop, DestinationOptions16);
        var r = Record(Message(10, packet.AsSpan(0, 40 + 8 + 4)));
        Assert.Equal((true, ProtocolType.Unknown, (ushort?)null), (r.Truncated, r.Protocol, r.DestinationPort));
        Assert.Equal(IPAddress.Parse("2001:db8:5::7"), r.Destination);
    }

    [Fact]
    public void An_attribute_that_claims_more_than_the_message_holds_ends_the_message_as_truncated()
    {
        byte[] message = Message(2, UdpV4.AsSpan(UdpV4.Length - 32));
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(NlmsgHeader + 4 + 8 + 20), 0xfff0); // the seq attribute lies
        var r = Record(message);
        Assert.True(r.Truncated);
        Assert.Equal("EGRESS-DENIED: ", r.Prefix); // read before the lie
        Assert.Null(r.Destination);
    }

    [Fact]
    public void A_datagram_with_a_lying_message_length_yields_the_messages_before_it()
    {
        byte[] datagram = [.. UdpV4, .. new byte[] { 0xff, 0xff, 0xff, 0xff, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 100 }];
        var reader = new NflogDatagramReader(datagram);
        Assert.True(reader.TryRead(out var first));
        Assert.Equal(123, first.DestinationPort);
        Assert.True(reader.TryRead(out var second)); // clipped to the datagram: a record with what is there
        Assert.True(second.Truncated);
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void Decoding_allocates_nothing_after_warm_up()
    {
        byte[] datagram = [.. UdpV4, .. new byte[(4 - UdpV4.Length % 4) % 4], .. TcpV6];
        byte[] extensions = Message(10, WithExtensions(HopByHop, DestinationOptions16, FirstFragment));
        long checksum = Decode(datagram, extensions, 10); // warm-up: JIT, tiering
        long before = GC.GetAllocatedBytesForCurrentThread();
        checksum += Decode(datagram, extensions, 100_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(100_010L * (123 + 443 + 443), checksum);
    }

    private static long Decode(byte[] datagram, byte[] extensions, int rounds)
    {
        long sum = 0;
        for (int i = 0; i < rounds; i++)
        {
            var reader = new NflogDatagramReader(datagram);
            while (reader.TryRead(out var packet))
                sum += packet.DestinationPort;
            sum += NflogDecoder.Decode(extensions.AsSpan(NlmsgHeader)).DestinationPort;
        }
        return sum;
    }
}
