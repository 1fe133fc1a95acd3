using System.Buffers.Binary;
using System.Text;
using NetlinkFence.Netlink;

namespace NetlinkFence.Tests.Golden;

/// <summary>
/// Renders one nfnetlink message as text for golden-byte diffs: the nlmsghdr and nfgenmsg fields, then the
/// attribute tree. Nests are recognised by NLA_F_NESTED (nft and we both set it); leaves show type, length,
/// hex payload and, when it looks like a NUL-terminated string, the text.
/// </summary>
internal static class AttributeTree
{
    public static string Render(ReadOnlySpan<byte> message)
    {
        var text = new StringBuilder();
        if (message.Length < 20)
            return $"(short message: {Convert.ToHexStringLower(message)})";
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(message);
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(message[6..]);
        text.Append($"nlmsg len={length} type=0x{type:x4} (subsys {type >> 8}, msg {type & 0xff}) flags=0x{flags:x4} seq={BinaryPrimitives.ReadUInt32LittleEndian(message[8..])} pid={BinaryPrimitives.ReadUInt32LittleEndian(message[12..])}\n");
        text.Append($"nfgen family={message[16]} version={message[17]} res_id={BinaryPrimitives.ReadUInt16BigEndian(message[18..])}\n");
        try
        {
            Append(text, message[20..Math.Min(message.Length, (int)length)], 1);
        }
        catch (NetlinkDecodeException e)
        {
            text.Append($"  !! {e.Message}\n");
        }
        return text.ToString();
    }

    private static void Append(StringBuilder text, ReadOnlySpan<byte> attributes, int depth)
    {
        var reader = new AttributeReader(attributes);
        while (reader.TryRead(out var a))
        {
            text.Append(' ', depth * 2);
            if (a.IsNested)
            {
                text.Append($"[{a.Type}] nest len={a.Payload.Length + 4}\n");
                Append(text, a.Payload, depth + 1);
            }
            else
            {
                text.Append($"[{a.Type}] len={a.Payload.Length + 4} {Convert.ToHexStringLower(a.Payload)}");
                if (LooksLikeString(a.Payload))
                    text.Append($" \"{Encoding.UTF8.GetString(a.Payload[..^1])}\"");
                text.Append('\n');
            }
        }
    }

    private static bool LooksLikeString(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 2 || payload[^1] != 0)
            return false;
        foreach (byte b in payload[..^1])
        {
            if (b is < 0x20 or > 0x7e)
                return false;
        }
        return true;
    }
}
