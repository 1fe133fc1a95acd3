using System.Buffers.Binary;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables;

/// <summary>Encodes and decodes named sets (<c>NFTA_SET_*</c>), including the userdata nft reads to print them.</summary>
internal static class SetCodec
{
    // nft's userdata TLV types for sets (libnftnl's NFTNL_UDATA_SET_*).
    private const byte UserDataKeyByteOrder = 0;
    private const byte UserDataComment = 7;

    // nft's enum byteorder.
    private const uint ByteOrderHost = 1, ByteOrderBig = 2;

    public static void Encode(ref NetlinkWriter writer, NftSet set, uint setId)
    {
        writer.WriteString((ushort)NftSetAttribute.TABLE, set.Table);
        writer.WriteString((ushort)NftSetAttribute.NAME, set.Name);
        writer.WriteU32BigEndian((ushort)NftSetAttribute.FLAGS, (uint)set.Flags);
        writer.WriteU32BigEndian((ushort)NftSetAttribute.KEY_TYPE, set.KeyTypeCode);
        writer.WriteU32BigEndian((ushort)NftSetAttribute.KEY_LEN, (uint)set.KeyLength);
        writer.WriteU32BigEndian((ushort)NftSetAttribute.ID, setId);
        if (set.IsConcatenation)
        {
            int desc = writer.BeginNested((ushort)NftSetAttribute.DESC);
            int concat = writer.BeginNested((ushort)NftSetDescAttribute.CONCAT);
            for (int i = 0; i < set.Key.Count; i++) // not foreach: that boxes an enumerator
            {
                int element = writer.BeginNested((ushort)NftListAttribute.ELEM);
                writer.WriteU32BigEndian((ushort)NftSetFieldAttribute.LEN, (uint)set.Key[i].Size());
                writer.EndNested(element);
            }
            writer.EndNested(concat);
            writer.EndNested(desc);
        }
        if (set.Timeout is { } timeout)
            writer.WriteU64BigEndian((ushort)NftSetAttribute.TIMEOUT, (ulong)timeout.TotalMilliseconds);
        WriteUserData(ref writer, set);
    }

    private static void WriteUserData(ref NetlinkWriter writer, NftSet set)
    {
        int size = 2 + 4 + (set.Comment is null ? 0 : RuleUserData.CommentSize(set.Comment));
        Span<byte> payload = writer.Attribute((ushort)NftSetAttribute.USERDATA, size);
        payload[0] = UserDataKeyByteOrder;
        payload[1] = 4;
        uint byteOrder = set.IsConcatenation ? 0 : set.Key[0].IsBigEndian() ? ByteOrderBig : ByteOrderHost;
        BinaryPrimitives.WriteUInt32LittleEndian(payload[2..], byteOrder);
        if (set.Comment is not null)
            RuleUserData.WriteComment(payload[6..], UserDataComment, set.Comment);
    }

    /// <summary>Identifies a set for deletion by table and name.</summary>
    public static void EncodeReference(ref NetlinkWriter writer, NftSet set)
    {
        writer.WriteString((ushort)NftSetAttribute.TABLE, set.Table);
        writer.WriteString((ushort)NftSetAttribute.NAME, set.Name);
    }

    public static NftSet Decode(in NetlinkMessage message)
    {
        string? table = null, name = null;
        uint flags = 0, keyType = 0, keyLength = 0;
        ulong handle = 0;
        TimeSpan? timeout = null;
        string? comment = null;
        var attributes = message.Attributes;
        while (attributes.TryRead(out var a))
        {
            switch ((NftSetAttribute)a.Type)
            {
                case NftSetAttribute.TABLE: table = a.String(); break;
                case NftSetAttribute.NAME: name = a.String(); break;
                case NftSetAttribute.FLAGS: flags = a.U32BigEndian(); break;
                case NftSetAttribute.KEY_TYPE: keyType = a.U32BigEndian(); break;
                case NftSetAttribute.KEY_LEN: keyLength = a.U32BigEndian(); break;
                case NftSetAttribute.HANDLE: handle = a.U64BigEndian(); break;
                case NftSetAttribute.TIMEOUT: timeout = TimeSpan.FromMilliseconds(a.U64BigEndian()); break;
                case NftSetAttribute.USERDATA: comment = RuleUserData.ReadString(a.Payload, UserDataComment, out _); break;
            }
        }
        var key = new List<SetKeyType>();
        for (uint code = keyType; code != 0; code >>= SetKeyTypes.TypeBits)
            key.Insert(0, (SetKeyType)(code & ((1u << SetKeyTypes.TypeBits) - 1)));
        if (key.Count == 0)
            throw new NetlinkDecodeException($"set '{name}' has key type 0 (length {keyLength}); only nft data types are understood");
        return new NftSet((NftFamily)message.Family,
            table ?? throw new NetlinkDecodeException("set without NFTA_SET_TABLE"),
            name ?? throw new NetlinkDecodeException("set without NFTA_SET_NAME"),
            key)
        {
            Flags = (SetFlags)flags,
            Timeout = timeout,
            Comment = comment,
            Handle = handle,
        };
    }
}
