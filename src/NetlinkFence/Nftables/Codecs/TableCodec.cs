using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Codecs;

/// <summary>Encodes and decodes tables (<c>NFTA_TABLE_*</c>).</summary>
internal static class TableCodec
{
    public static void Encode(ref NetlinkWriter writer, Table table, bool withFlags)
    {
        writer.WriteString((ushort)NftTableAttribute.NAME, table.Name);
        if (!withFlags)
            return;
        writer.WriteU32BigEndian((ushort)NftTableAttribute.FLAGS, table.Flags);
        if (table.Comment is { } comment)
            RuleUserData.WriteComment(writer.Attribute((ushort)NftTableAttribute.USERDATA, RuleUserData.CommentSize(comment)), UserDataComment, comment);
    }

    /// <summary>libnftnl's <c>NFTNL_UDATA_TABLE_COMMENT</c>.</summary>
    private const byte UserDataComment = 0;

    public static Table Decode(in NetlinkMessage message)
    {
        string? name = null;
        uint flags = 0;
        ulong handle = 0;
        uint? owner = null;
        string? comment = null;
        var attributes = message.Attributes;
        while (attributes.TryRead(out var a))
        {
            switch ((NftTableAttribute)a.Type)
            {
                case NftTableAttribute.NAME: name = a.String(); break;
                case NftTableAttribute.FLAGS: flags = a.U32BigEndian(); break;
                case NftTableAttribute.HANDLE: handle = a.U64BigEndian(); break;
                case NftTableAttribute.OWNER: owner = a.U32BigEndian(); break;
                case NftTableAttribute.USERDATA: comment = RuleUserData.ReadString(a.Payload, UserDataComment, out _); break;
            }
        }
        return new Table((NftFamily)message.Family, name ?? throw new NetlinkDecodeException("table without NFTA_TABLE_NAME"))
        {
            Flags = flags,
            Handle = handle,
            Owner = owner,
            Comment = comment,
        };
    }
}
