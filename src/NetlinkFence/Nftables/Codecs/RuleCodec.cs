using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Expressions;

namespace NetlinkFence.Nftables.Codecs;

/// <summary>Encodes and decodes rules (<c>NFTA_RULE_*</c>).</summary>
internal static class RuleCodec
{
    /// <summary>The kernel's NFT_RULE_MAXEXPRS (nf_tables_api.c, not exported in UAPI headers).</summary>
    public const int MaxExpressions = 128;

    public static void Encode(ref NetlinkWriter writer, Rule rule, bool withHandle, uint id = 0, uint positionId = 0)
    {
        writer.WriteString((ushort)NftRuleAttribute.TABLE, rule.Table);
        writer.WriteString((ushort)NftRuleAttribute.CHAIN, rule.Chain);
        if (withHandle)
            writer.WriteU64BigEndian((ushort)NftRuleAttribute.HANDLE, rule.Handle);
        if (rule.Position is { } position)
            writer.WriteU64BigEndian((ushort)NftRuleAttribute.POSITION, position);
        if (rule.Expressions.Count > MaxExpressions)
            throw new NetlinkEncodingException(
                $"rule in chain {rule.Chain} has {rule.Expressions.Count} expressions; the kernel accepts at most {MaxExpressions} (NFT_RULE_MAXEXPRS): split it");
        var list = writer.BeginNested((ushort)NftRuleAttribute.EXPRESSIONS);
        // Index loop: foreach over IReadOnlyList would box an enumerator per rule.
        var expressions = rule.Expressions;
        for (int i = 0; i < expressions.Count; i++)
            expressions[i].Encode(ref writer);
        writer.EndNested(list);
        if (rule.UserData is { } raw)
            writer.WriteBytes((ushort)NftRuleAttribute.USERDATA, raw.Span);
        else if (rule.Comment is { } comment)
        {
            Span<byte> payload = writer.Attribute((ushort)NftRuleAttribute.USERDATA, RuleUserData.CommentSize(comment));
            RuleUserData.WriteComment(payload, RuleUserData.RuleComment, comment);
        }
        // Batch-local ids, written only for rules positioned against each other in one transaction.
        if (id != 0)
            writer.WriteU32BigEndian((ushort)NftRuleAttribute.ID, id);
        if (positionId != 0)
            writer.WriteU32BigEndian((ushort)NftRuleAttribute.POSITION_ID, positionId);
    }

    /// <summary>Identifies a rule for deletion by table, chain and handle.</summary>
    public static void EncodeReference(ref NetlinkWriter writer, Rule rule)
    {
        writer.WriteString((ushort)NftRuleAttribute.TABLE, rule.Table);
        writer.WriteString((ushort)NftRuleAttribute.CHAIN, rule.Chain);
        writer.WriteU64BigEndian((ushort)NftRuleAttribute.HANDLE, rule.Handle);
    }

    public static Rule Decode(in NetlinkMessage message)
    {
        string? table = null, chain = null;
        ulong handle = 0;
        List<Expression>? expressions = null;
        DataValue? userData = null;
        var attributes = message.Attributes;
        while (attributes.TryRead(out var a))
        {
            switch ((NftRuleAttribute)a.Type)
            {
                case NftRuleAttribute.TABLE: table = a.String(); break;
                case NftRuleAttribute.CHAIN: chain = a.String(); break;
                case NftRuleAttribute.HANDLE: handle = a.U64BigEndian(); break;
                case NftRuleAttribute.EXPRESSIONS: expressions = ExpressionCodec.DecodeList(a.Payload); break;
                case NftRuleAttribute.USERDATA: userData = new DataValue(a.Payload); break;
            }
        }
        string? comment = null;
        bool onlyComment = true;
        if (userData is { } data)
            comment = RuleUserData.ReadString(data.Span, RuleUserData.RuleComment, out onlyComment);
        return new Rule((NftFamily)message.Family,
            table ?? throw new NetlinkDecodeException("rule without NFTA_RULE_TABLE"),
            chain ?? throw new NetlinkDecodeException("rule without NFTA_RULE_CHAIN"),
            expressions ?? [], comment)
        {
            Handle = handle,
            UserData = onlyComment ? null : userData,
        };
    }
}
