using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Netlink;

/// <summary>
/// Exact bytes of what <see cref="NetlinkWriter"/> produces. Every buffer starts filled with 0xFF, so padding
/// the writer forgets to zero, or bytes it writes past its own length, show up in the comparison.
/// </summary>
public sealed class NetlinkWriterTests
{
    private static NetlinkMessageToken BeginNewTable(ref NetlinkWriter writer, uint sequence, NetfilterFamily family) =>
        writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.NFTABLES, (byte)NftMessageType.NEWTABLE, NetlinkMessageFlags.REQUEST, sequence, family);

    private static byte[] Dirty(int size)
    {
        var buffer = new byte[size];
        buffer.AsSpan().Fill(0xFF);
        return buffer;
    }

    /// <summary>Asserts the writer produced <paramref name="expectedHex"/> and left everything after it untouched.</summary>
    private static void AssertWritten(string expectedHex, byte[] buffer, int length)
    {
        Hex.AssertEqual(Hex.Parse(expectedHex), buffer.AsSpan(0, length));
        int stray = buffer.AsSpan(length).IndexOfAnyExcept((byte)0xFF);
        Assert.True(stray < 0, $"the writer changed byte {length + stray} beyond its length {length}:\n{Hex.Dump(buffer)}");
    }

    [Fact]
    public void Message_header_and_nfgenmsg()
    {
        byte[] buffer = Dirty(64);
        var writer = new NetlinkWriter(buffer);
        var message = writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.NFTABLES, (byte)NftMessageType.NEWTABLE,
            NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.CREATE | NetlinkMessageFlags.ACK,
            sequence: 0x01020304, family: NetfilterFamily.INET, resourceId: 0x0a0b);
        writer.EndMessage(message);

        Assert.Equal(0, message.Offset);
        Assert.Equal(20, writer.Length);
        AssertWritten("""
            14 00 00 00   00 0a   05 04   04 03 02 01   00 00 00 00
            01   00   0a 0b
            """, buffer, writer.Length);
    }

    [Fact]
    public void Message_length_is_back_patched_to_cover_its_attributes()
    {
        byte[] buffer = Dirty(128);
        var writer = new NetlinkWriter(buffer);
        var message = BeginNewTable(ref writer, sequence: 7, NetfilterFamily.IPV4);
        writer.WriteString((ushort)NftTableAttribute.NAME, "filter");
        writer.WriteU32BigEndian((ushort)NftTableAttribute.FLAGS, 0);
        writer.EndMessage(message);

        AssertWritten("""
            28 00 00 00   00 0a   01 00   07 00 00 00   00 00 00 00
            02 00 00 00
            0b 00 01 00   66 69 6c 74 65 72 00   00
            08 00 02 00   00 00 00 00
            """, buffer, writer.Length);
    }

    [Fact]
    public void Two_messages_each_get_their_own_length()
    {
        byte[] buffer = Dirty(128);
        var writer = new NetlinkWriter(buffer);
        var first = writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.NONE, (byte)NfnetlinkBatchMessage.BATCH_BEGIN, NetlinkMessageFlags.REQUEST, 1,
            NetfilterFamily.UNSPEC, (ushort)NfnetlinkSubsystem.NFTABLES);
        writer.EndMessage(first);
        var second = BeginNewTable(ref writer, 2, NetfilterFamily.INET);
        writer.WriteU8(9, 0xAB);
        writer.EndMessage(second);

        Assert.Equal(20, second.Offset);
        AssertWritten("""
            14 00 00 00   10 00   01 00   01 00 00 00   00 00 00 00   00 00 00 0a
            1c 00 00 00   00 0a   01 00   02 00 00 00   00 00 00 00   01 00 00 00
            05 00 09 00   ab 00 00 00
            """, buffer, writer.Length);
    }

    [Fact]
    public void U8_attribute_is_padded_with_zeros()
    {
        byte[] buffer = Dirty(16);
        var writer = new NetlinkWriter(buffer);
        writer.WriteU8(3, 0x7F);
        AssertWritten("05 00 03 00   7f 00 00 00", buffer, writer.Length);
    }

    [Fact]
    public void U16_attribute_is_big_endian_and_padded()
    {
        byte[] buffer = Dirty(16);
        var writer = new NetlinkWriter(buffer);
        writer.WriteU16BigEndian(4, 0x1234);
        AssertWritten("06 00 04 00   12 34 00 00", buffer, writer.Length);
    }

    [Fact]
    public void U32_attribute_is_big_endian()
    {
        byte[] buffer = Dirty(16);
        var writer = new NetlinkWriter(buffer);
        writer.WriteU32BigEndian(5, 0x12345678);
        AssertWritten("08 00 05 00   12 34 56 78", buffer, writer.Length);
    }

    [Fact]
    public void U64_attribute_is_big_endian()
    {
        byte[] buffer = Dirty(16);
        var writer = new NetlinkWriter(buffer);
        writer.WriteU64BigEndian(6, 0x0102030405060708);
        AssertWritten("0c 00 06 00   01 02 03 04 05 06 07 08", buffer, writer.Length);
    }

    [Theory]
    [InlineData("", "05 00 01 00   00 00 00 00")]
    [InlineData("abc", "08 00 01 00   61 62 63 00")]
    [InlineData("abcd", "09 00 01 00   61 62 63 64   00 00 00 00")]
    [InlineData("abcde", "0a 00 01 00   61 62 63 64 65 00   00 00")]
    [InlineData("abcdef", "0b 00 01 00   61 62 63 64 65 66 00   00")]
    [InlineData("é", "07 00 01 00   c3 a9 00   00")] // UTF-8, length counts bytes
    public void String_attribute_is_nul_terminated_and_padded_to_four(string value, string expectedHex)
    {
        byte[] buffer = Dirty(32);
        var writer = new NetlinkWriter(buffer);
        writer.WriteString(1, value);
        AssertWritten(expectedHex, buffer, writer.Length);
    }

    [Theory]
    [InlineData(0, "04 00 07 00")]
    [InlineData(1, "05 00 07 00   00 00 00 00")]
    [InlineData(3, "07 00 07 00   00 01 02 00")]
    [InlineData(4, "08 00 07 00   00 01 02 03")]
    [InlineData(5, "09 00 07 00   00 01 02 03 04 00 00 00")]
    public void Byte_attribute_keeps_its_exact_length_and_pads(int count, string expectedHex)
    {
        byte[] buffer = Dirty(32);
        var writer = new NetlinkWriter(buffer);
        writer.WriteBytes(7, Enumerable.Range(0, count).Select(i => (byte)i).ToArray());
        AssertWritten(expectedHex, buffer, writer.Length);
    }

    [Fact]
    public void Attribute_returns_the_payload_and_zeroes_only_the_padding()
    {
        byte[] buffer = Dirty(16);
        var writer = new NetlinkWriter(buffer);
        Span<byte> payload = writer.Attribute(2, 3);
        Assert.Equal(3, payload.Length);
        Assert.True(payload.IndexOfAnyExcept((byte)0xFF) < 0, "the payload is the caller's to fill");
        payload.Fill(0xAA);
        AssertWritten("07 00 02 00   aa aa aa 00", buffer, writer.Length);
    }

    [Fact]
    public void Nested_attribute_sets_nla_f_nested_and_back_patches_its_length()
    {
        byte[] buffer = Dirty(64);
        var writer = new NetlinkWriter(buffer);
        var nest = writer.BeginNested(1);
        writer.WriteU32BigEndian(1, 0xDEADBEEF);
        writer.WriteU8(2, 1);
        writer.EndNested(nest);

        AssertWritten("""
            14 00 01 80
               08 00 01 00   de ad be ef
               05 00 02 00   01 00 00 00
            """, buffer, writer.Length);
    }

    [Fact]
    public void Nests_inside_nests_each_get_their_own_length()
    {
        byte[] buffer = Dirty(128);
        var writer = new NetlinkWriter(buffer);
        var message = BeginNewTable(ref writer, 1, NetfilterFamily.INET);
        var outer = writer.BeginNested((ushort)NftRuleAttribute.EXPRESSIONS);
        var element = writer.BeginNested((ushort)NftListAttribute.ELEM);
        writer.WriteString((ushort)NftExpressionAttribute.NAME, "ct");
        var data = writer.BeginNested((ushort)NftExpressionAttribute.DATA);
        writer.EndNested(data); // empty nest
        writer.EndNested(element);
        var second = writer.BeginNested((ushort)NftListAttribute.ELEM);
        writer.WriteU16BigEndian(9, 0x0102);
        writer.EndNested(second);
        writer.EndNested(outer);
        writer.EndMessage(message);

        AssertWritten("""
            34 00 00 00   00 0a   01 00   01 00 00 00   00 00 00 00   01 00 00 00
            20 00 04 80
               10 00 01 80
                  07 00 01 00   63 74 00 00
                  04 00 02 80
               0c 00 01 80
                  06 00 09 00   01 02 00 00
            """, buffer, writer.Length);
    }

    [Fact]
    public void Nested_type_keeps_the_flag_even_when_the_type_already_has_it()
    {
        byte[] buffer = Dirty(8);
        var writer = new NetlinkWriter(buffer);
        var nest = writer.BeginNested(0x8003);
        writer.EndNested(nest);
        AssertWritten("04 00 03 80", buffer, writer.Length);
    }

    [Fact]
    public void Written_is_exactly_the_bytes_so_far()
    {
        byte[] buffer = Dirty(32);
        var writer = new NetlinkWriter(buffer);
        Assert.Equal(0, writer.Written.Length);
        writer.WriteU8(1, 1);
        writer.WriteU16BigEndian(2, 2);
        Assert.Equal(16, writer.Length);
        Hex.AssertEqual(buffer.AsSpan(0, 16), writer.Written);
    }

    [Fact]
    public void Attribute_of_exactly_65535_bytes_is_allowed()
    {
        byte[] buffer = Dirty(70_000);
        var writer = new NetlinkWriter(buffer);
        writer.WriteBytes(1, new byte[65_531]);
        Assert.Equal(65_536, writer.Length);
        Hex.AssertEqual(Hex.Parse("ff ff 01 00"), buffer.AsSpan(0, 4));
        Assert.Equal(0, buffer[65_535]); // the one padding byte
    }

    [Theory]
    [InlineData(65_532)]
    [InlineData(65_536)]
    [InlineData(100_000)]
    public void Attribute_over_65535_bytes_throws(int payload)
    {
        var e = Assert.Throws<NetlinkEncodingException>(() =>
        {
            var writer = new NetlinkWriter(new byte[200_000]);
            writer.WriteBytes(1, new byte[payload]);
        });
        Assert.Contains("65535", e.Message);
        Assert.Contains((payload + 4).ToString(), e.Message);
    }

    [Fact]
    public void String_attribute_over_65535_bytes_throws()
    {
        Assert.Throws<NetlinkEncodingException>(() =>
        {
            var writer = new NetlinkWriter(new byte[200_000]);
            writer.WriteString(1, new string('x', 65_531)); // + NUL + header = 65536
        });
    }

    [Fact]
    public void Nest_over_65535_bytes_throws_when_it_ends()
    {
        var e = Assert.Throws<NetlinkEncodingException>(() =>
        {
            var writer = new NetlinkWriter(new byte[200_000]);
            var nest = writer.BeginNested(1);
            writer.WriteBytes(1, new byte[40_000]);
            writer.WriteBytes(2, new byte[40_000]);
            writer.EndNested(nest);
        });
        Assert.Contains("65535", e.Message);
        Assert.Contains("80012", e.Message);
    }

    [Fact]
    public void Outer_nest_over_65535_bytes_throws_even_when_its_inner_nests_fit()
    {
        var e = Assert.Throws<NetlinkEncodingException>(() =>
        {
            var writer = new NetlinkWriter(new byte[200_000]);
            var outer = writer.BeginNested(1);
            for (ushort i = 1; i <= 2; i++)
            {
                var inner = writer.BeginNested(i);
                writer.WriteBytes(1, new byte[40_000]);
                writer.EndNested(inner); // 40,008 bytes: fine
            }
            writer.EndNested(outer);
        });
        Assert.Contains("80020", e.Message);
    }

    [Fact]
    public void Tokens_name_the_offset_their_end_patches()
    {
        byte[] buffer = Dirty(64);
        var writer = new NetlinkWriter(buffer);
        var message = BeginNewTable(ref writer, 1, NetfilterFamily.INET);
        var outer = writer.BeginNested(1);
        var inner = writer.BeginNested(2);
        writer.WriteU8(3, 1);
        writer.EndNested(inner);
        writer.EndNested(outer);
        writer.EndMessage(message);

        Assert.Equal((0, 20, 24), (message.Offset, outer.Offset, inner.Offset));
        Assert.Equal(16, BitConverter.ToUInt16(buffer, outer.Offset));
        Assert.Equal(12, BitConverter.ToUInt16(buffer, inner.Offset));
        Assert.Equal(36u, BitConverter.ToUInt32(buffer, message.Offset));
    }

    [Fact]
    public void Generic_message_header_that_does_not_fit_throws()
    {
        var e = Assert.Throws<NetlinkEncodingException>(() =>
        {
            var writer = new NetlinkWriter(new byte[15]);
            writer.BeginMessage(18, NetlinkMessageFlags.REQUEST, 1);
        });
        Assert.Contains("15", e.Message);
    }

    [Fact]
    public void Message_header_that_does_not_fit_throws()
    {
        var e = Assert.Throws<NetlinkEncodingException>(() =>
        {
            var writer = new NetlinkWriter(new byte[19]);
            BeginNewTable(ref writer, 1, NetfilterFamily.INET);
        });
        Assert.Contains("19", e.Message);
    }

    [Fact]
    public void Attribute_that_does_not_fit_throws_and_writes_nothing_past_the_buffer()
    {
        byte[] backing = Dirty(32);
        var e = Assert.Throws<NetlinkEncodingException>(() =>
        {
            var writer = new NetlinkWriter(backing.AsSpan(0, 24));
            BeginNewTable(ref writer, 1, NetfilterFamily.INET);
            writer.WriteU32BigEndian(1, 1); // needs 8 bytes, 4 left
        });
        Assert.Contains("24", e.Message);
        Assert.True(backing.AsSpan(24).IndexOfAnyExcept((byte)0xFF) < 0, "bytes beyond the writer's buffer were changed");
    }

    [Fact]
    public void Padding_that_does_not_fit_throws()
    {
        // 5 bytes of attribute need 8 with padding: a 5-byte buffer must not be enough.
        Assert.Throws<NetlinkEncodingException>(() =>
        {
            var writer = new NetlinkWriter(new byte[5]);
            writer.WriteU8(1, 1);
        });
    }

    [Fact]
    public void Exact_fit_is_not_an_overflow()
    {
        byte[] buffer = Dirty(28);
        var writer = new NetlinkWriter(buffer);
        var message = BeginNewTable(ref writer, 1, NetfilterFamily.INET);
        writer.WriteU32BigEndian(1, 1);
        writer.EndMessage(message);
        Assert.Equal(28, writer.Length);
        Assert.Equal(28u, BitConverter.ToUInt32(buffer, 0));
    }

    [Fact]
    public void Reserve_overflow_throws()
    {
        Assert.Throws<NetlinkEncodingException>(() =>
        {
            var writer = new NetlinkWriter(new byte[8]);
            writer.Reserve(4);
            writer.Reserve(5);
        });
    }
}
