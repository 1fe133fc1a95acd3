using System.Buffers.Binary;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Netlink;

/// <summary>
/// The writer and reader as a generic netlink codec: a message of a protocol that is not nfnetlink (an
/// rtnetlink <c>RTM_GETLINK</c> request) written with the public API and read back field by field, and the
/// typed tokens' back-patching.
/// </summary>
public sealed class GenericMessageTests
{
    // <linux/rtnetlink.h>, <linux/if_link.h>: not part of the library's UAPI set, so spelled out here.
    private const ushort RtmGetLink = 18;
    private const int IfInfoMessageSize = 16; // struct ifinfomsg { u8 family, pad; u16 type; s32 index; u32 flags, change; }
    private const ushort IflaIfName = 3, IflaLinkInfo = 18, IflaExtMask = 29, IflaInfoKind = 1;

    private static byte[] Dirty(int size)
    {
        var buffer = new byte[size];
        buffer.AsSpan().Fill(0xFF);
        return buffer;
    }

    private static int WriteGetLink(Span<byte> buffer, out NetlinkMessageToken token)
    {
        var writer = new NetlinkWriter(buffer);
        token = writer.BeginMessage(RtmGetLink, NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.ACK, sequence: 0x0a0b0c0d);
        Span<byte> ifinfo = writer.Reserve(IfInfoMessageSize);
        ifinfo.Clear();
        BinaryPrimitives.WriteInt32LittleEndian(ifinfo[4..], 7); // ifi_index
        writer.WriteString(IflaIfName, "veth0");
        writer.WriteU32(IflaExtMask, 1); // RTEXT_FILTER_VF, host byte order
        var linkInfo = writer.BeginNested(IflaLinkInfo);
        writer.WriteString(IflaInfoKind, "veth");
        writer.EndNested(linkInfo);
        writer.EndMessage(token);
        return writer.Length;
    }

    [Fact]
    public void BeginMessage_writes_only_the_nlmsghdr()
    {
        byte[] buffer = Dirty(32);
        var writer = new NetlinkWriter(buffer);
        var message = writer.BeginMessage(RtmGetLink, NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.DUMP, sequence: 0x01020304);
        writer.EndMessage(message);

        Assert.Equal(16, writer.Length);
        Hex.AssertEqual(Hex.Parse("10 00 00 00   12 00   01 03   04 03 02 01   00 00 00 00"), writer.Written);
        Assert.True(buffer.AsSpan(16).IndexOfAnyExcept((byte)0xFF) < 0, "the writer wrote past the header");
    }

    [Fact]
    public void A_getlink_request_has_the_exact_rtnetlink_layout()
    {
        byte[] buffer = Dirty(128);
        int length = WriteGetLink(buffer, out _);

        Hex.AssertEqual(Hex.Parse("""
            44 00 00 00   12 00   05 00   0d 0c 0b 0a   00 00 00 00
            00 00 00 00   07 00 00 00   00 00 00 00   00 00 00 00
            0a 00 03 00   76 65 74 68 30 00   00 00
            08 00 1d 00   01 00 00 00
            10 00 12 80
               09 00 01 00   76 65 74 68 00   00 00 00
            """), buffer.AsSpan(0, length));
    }

    [Fact]
    public void A_getlink_request_round_trips_through_the_reader()
    {
        byte[] buffer = new byte[128];
        int length = WriteGetLink(buffer, out var token);

        var reader = new NetlinkMessageReader(buffer.AsSpan(0, length));
        Assert.True(reader.TryRead(out NetlinkMessage message));
        Assert.Equal(0, token.Offset);
        Assert.Equal(RtmGetLink, message.Type);
        Assert.Equal(NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.ACK, message.Flags);
        Assert.Equal(0x0a0b0c0du, message.Sequence);
        Assert.Equal(0u, message.PortId);
        Assert.Equal(length - 16, message.Payload.Length);
        Assert.Equal(7, BinaryPrimitives.ReadInt32LittleEndian(message.Payload[4..]));

        string? name = null, kind = null;
        uint? mask = null;
        var attributes = message.AttributesAfter(IfInfoMessageSize);
        while (attributes.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case IflaIfName: name = attribute.String(); break;
                case IflaExtMask: mask = attribute.U32(); break;
                case IflaLinkInfo:
                    Assert.True(attribute.IsNested);
                    var nested = attribute.Nested();
                    while (nested.TryRead(out var inner))
                        if (inner.Type == IflaInfoKind)
                            kind = inner.String();
                    break;
                default: Assert.Fail($"unexpected attribute type {attribute.Type}"); break;
            }
        }
        Assert.Equal("veth0", name);
        Assert.Equal(1u, mask);
        Assert.Equal("veth", kind);
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void AttributesAfter_a_header_longer_than_the_payload_throws()
    {
        byte[] buffer = new byte[32];
        var writer = new NetlinkWriter(buffer);
        var token = writer.BeginMessage(RtmGetLink, NetlinkMessageFlags.REQUEST, 1);
        writer.Reserve(8).Clear();
        writer.EndMessage(token);

        var reader = new NetlinkMessageReader(writer.Written);
        Assert.True(reader.TryRead(out var message));
        Assert.Equal(0, Count(message.AttributesAfter(8)));
        try
        {
            message.AttributesAfter(IfInfoMessageSize);
            Assert.Fail("a 16-byte header cannot fit 8 payload bytes");
        }
        catch (NetlinkDecodeException e)
        {
            Assert.Contains("16-byte header", e.Message);
        }
    }

    [Fact]
    public void Host_order_integers_round_trip()
    {
        byte[] buffer = new byte[64];
        var writer = new NetlinkWriter(buffer);
        writer.WriteU16(1, 0x1234);
        writer.WriteU32(2, 0x12345678);
        writer.WriteU64(3, 0x0102030405060708);
        Assert.Equal(8 + 8 + 12, writer.Length);

        var attributes = new AttributeReader(writer.Written);
        Assert.True(attributes.TryRead(out var u16));
        Assert.Equal(0x1234, u16.U16());
        Assert.Equal(BitConverter.IsLittleEndian ? 0x12 : 0x34, buffer[5]);
        Assert.True(attributes.TryRead(out var u32));
        Assert.Equal(0x12345678u, u32.U32());
        Assert.True(attributes.TryRead(out var u64));
        Assert.Equal(0x0102030405060708ul, u64.U64());
        Assert.False(attributes.TryRead(out _));
    }

    [Fact]
    public void Host_order_getter_checks_the_payload_length()
    {
        byte[] buffer = new byte[16];
        var writer = new NetlinkWriter(buffer);
        writer.WriteU16(1, 1);
        var attributes = new AttributeReader(writer.Written);
        Assert.True(attributes.TryRead(out var attribute));
        try
        {
            attribute.U32();
            Assert.Fail("a 2-byte payload is not a u32");
        }
        catch (NetlinkDecodeException e)
        {
            Assert.Contains("expected 4", e.Message);
        }
    }

    [Fact]
    public void Nfgen_header_follows_a_generic_header()
    {
        // NFULNL_MSG_CONFIG binding NFLOG group 0x0102: res_id is the group, big-endian.
        byte[] buffer = Dirty(32);
        var writer = new NetlinkWriter(buffer);
        var message = writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.ULOG, (byte)NfulnlMessageType.CONFIG,
            NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.ACK, 9, NetfilterFamily.UNSPEC, resourceId: 0x0102);
        writer.WriteU8((ushort)NfulaConfigAttribute.CMD, (byte)NfulnlConfigCommand.BIND);
        writer.EndMessage(message);

        Hex.AssertEqual(Hex.Parse("""
            1c 00 00 00   01 04   05 00   09 00 00 00   00 00 00 00
            00 00 01 02
            05 00 01 00   01 00 00 00
            """), writer.Written);
        var reader = new NetlinkMessageReader(writer.Written);
        Assert.True(reader.TryRead(out var read));
        Assert.Equal(NfnetlinkSubsystem.ULOG, read.Subsystem);
        Assert.Equal((byte)NfulnlMessageType.CONFIG, read.SubsystemMessage);
        Assert.Equal(0x0102, read.ResourceId);
        Assert.Equal(Nfnetlink.MessageType(NfnetlinkSubsystem.ULOG, (byte)NfulnlMessageType.CONFIG), read.Type);
    }

    private static int Count(AttributeReader attributes)
    {
        int count = 0;
        while (attributes.TryRead(out _))
            count++;
        return count;
    }
}
