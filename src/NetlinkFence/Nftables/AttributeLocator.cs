using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Expressions;

namespace NetlinkFence.Nftables;

/// <summary>
/// Turns the extended-ACK offset the kernel reports (bytes from the start of the refused message) into a
/// readable attribute path, by walking the bytes we sent: <c>NFTA_RULE_EXPRESSIONS &gt; #3 lookup &gt; attribute 1</c>.
/// </summary>
internal static class AttributeLocator
{
    public static string? Describe(ReadOnlySpan<byte> message, int offset)
    {
        const int AttributesStart = NetlinkAlignment.MessageHeaderSize + NetlinkAlignment.NfgenHeaderSize;
        if (offset < AttributesStart || offset >= message.Length)
            return null;
        var type = (NftMessageType)(byte)System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);
        var path = new List<string>();
        try
        {
            Walk(message[AttributesStart..], offset - AttributesStart, path, level: type, inExpressions: false);
        }
        catch (NetlinkDecodeException)
        {
            return null;
        }
        return path.Count == 0 ? null : string.Join(" > ", path);
    }

    private static void Walk(ReadOnlySpan<byte> attributes, int offset, List<string> path, NftMessageType? level, bool inExpressions, bool inElements = false)
    {
        var reader = new AttributeReader(attributes);
        int index = 0;
        while (reader.TryRead(out var a))
        {
            index++;
            int start = a.Offset, end = a.Offset + 4 + a.Payload.Length;
            if (offset < start || offset >= end)
                continue;
            if (inExpressions)
            {
                var expression = ExpressionCodec.Decode(a.Payload);
                path.Add($"expression #{index} ({expression.Name})");
            }
            else if (inElements)
            {
                path.Add($"element #{index} of this message");
                return;
            }
            else
            {
                path.Add(Name(level, a.Type));
            }
            if (a.IsNested && offset >= start + 4)
            {
                bool expressions = level == NftMessageType.NEWRULE && a.Type == (ushort)NftRuleAttribute.EXPRESSIONS;
                bool elements = level is NftMessageType.NEWSETELEM or NftMessageType.DELSETELEM && a.Type == (ushort)NftSetElementListAttribute.ELEMENTS;
                Walk(a.Payload, offset - start - 4, path, null, expressions, elements);
            }
            return;
        }
    }

    private static string Name(NftMessageType? message, ushort type) => message switch
    {
        NftMessageType.NEWTABLE or NftMessageType.DELTABLE => "NFTA_TABLE_" + (NftTableAttribute)type,
        NftMessageType.NEWCHAIN or NftMessageType.DELCHAIN => "NFTA_CHAIN_" + (NftChainAttribute)type,
        NftMessageType.NEWRULE or NftMessageType.DELRULE => "NFTA_RULE_" + (NftRuleAttribute)type,
        NftMessageType.NEWSET or NftMessageType.DELSET => "NFTA_SET_" + (NftSetAttribute)type,
        NftMessageType.NEWSETELEM or NftMessageType.DELSETELEM => "NFTA_SET_ELEM_LIST_" + (NftSetElementListAttribute)type,
        _ => $"attribute {type}",
    };
}
