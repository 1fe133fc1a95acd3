using System.Buffers.Binary;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Expressions;

namespace NetlinkFence.Nftables.Codecs;

/// <summary>Encodes and decodes named sets (<c>NFTA_SET_*</c>), including the userdata nft reads to print them.</summary>
internal static class SetCodec
{
    // nft's userdata TLV types for sets (libnftnl's NFTNL_UDATA_SET_*).
    private const byte UserDataKeyByteOrder = 0;
    private const byte UserDataKeyTypeOf = 3;
    private const byte UserDataComment = 7;

    // Inside UserDataKeyTypeOf: the kind of expression (nft's internal expression-type number) and its data.
    private const byte TypeOfExpression = 0, TypeOfData = 1;
    // Values nft 1.0.6 writes (golden bytes): 9 for a meta expression (data: its key), 13 for a concatenation
    // of data types (data: empty).
    private const uint TypeOfMeta = 9, TypeOfConcat = 13;
    private const byte TypeOfMetaKey = 0;

    // nft's enum byteorder.
    private const uint ByteOrderInvalid = 0, ByteOrderHost = 1, ByteOrderBig = 2;

    public static void Encode(ref NetlinkWriter writer, NftSet set, uint setId)
    {
        // nft 1.0.6's order (golden bytes): TABLE NAME FLAGS KEY_TYPE KEY_LEN ID DESC TIMEOUT USERDATA EXPR.
        writer.WriteString((ushort)NftSetAttribute.TABLE, set.Table);
        writer.WriteString((ushort)NftSetAttribute.NAME, set.Name);
        writer.WriteU32BigEndian((ushort)NftSetAttribute.FLAGS, (uint)set.Flags);
        writer.WriteU32BigEndian((ushort)NftSetAttribute.KEY_TYPE, set.KeyTypeCode);
        writer.WriteU32BigEndian((ushort)NftSetAttribute.KEY_LEN, (uint)set.KeyLength);
        writer.WriteU32BigEndian((ushort)NftSetAttribute.ID, setId);
        bool concatFields = set.IsConcatenation && (set.Flags & SetFlags.Concat) != 0;
        if (concatFields || set.Size is not null)
        {
            var desc = writer.BeginNested((ushort)NftSetAttribute.DESC);
            if (set.Size is { } size)
                writer.WriteU32BigEndian((ushort)NftSetDescAttribute.SIZE, size);
            if (concatFields)
            {
                var concat = writer.BeginNested((ushort)NftSetDescAttribute.CONCAT);
                for (int i = 0; i < set.Key.Count; i++) // not foreach: that boxes an enumerator
                {
                    var element = writer.BeginNested((ushort)NftListAttribute.ELEM);
                    writer.WriteU32BigEndian((ushort)NftSetFieldAttribute.LEN, (uint)set.Key[i].Size());
                    writer.EndNested(element);
                }
                writer.EndNested(concat);
            }
            writer.EndNested(desc);
        }
        if (set.Timeout is { } timeout)
            writer.WriteU64BigEndian((ushort)NftSetAttribute.TIMEOUT, (ulong)timeout.TotalMilliseconds);
        WriteUserData(ref writer, set);
        if (set.ElementCounters)
        {
            // One set expression: nft 1.0.6 sends NFTA_SET_EXPR { NAME "counter", DATA {} } (not the EXPRESSIONS
            // list) and no per-element expressions; the kernel gives each new element a copy.
            var expr = writer.BeginNested((ushort)NftSetAttribute.EXPR);
            writer.WriteString((ushort)NftExpressionAttribute.NAME, "counter");
            var data = writer.BeginNested((ushort)NftExpressionAttribute.DATA);
            writer.EndNested(data);
            writer.EndNested(expr);
        }
    }

    /// <summary>
    /// libnftnl udata TLVs as nft 1.0.6 writes them: KEYBYTEORDER (u32, host order: 2 big endian, 1 host,
    /// 0 for a concatenation), then for a concatenation or a typeof key a KEY_TYPEOF nest
    /// { EXPR u32, DATA { ... } }, then the comment.
    /// </summary>
    private static void WriteUserData(ref NetlinkWriter writer, NftSet set)
    {
        var meta = set.KeyTypeOf as MetaExpression;
        int typeOfSize = set.IsConcatenation ? 2 + 6 + 2 : meta is not null ? 2 + 6 + 2 + 6 : 0;
        int size = 2 + 4 + typeOfSize + (set.Comment is null ? 0 : RuleUserData.CommentSize(set.Comment));
        Span<byte> payload = writer.Attribute((ushort)NftSetAttribute.USERDATA, size);
        uint byteOrder = set.IsConcatenation ? ByteOrderInvalid : KeyIsBigEndian(set.Key[0]) ? ByteOrderBig : ByteOrderHost;
        int at = PutU32(payload, UserDataKeyByteOrder, byteOrder);
        if (typeOfSize != 0)
        {
            payload[at] = UserDataKeyTypeOf;
            payload[at + 1] = (byte)(typeOfSize - 2);
            at += 2;
            at += PutU32(payload[at..], TypeOfExpression, set.IsConcatenation ? TypeOfConcat : TypeOfMeta);
            payload[at] = TypeOfData;
            payload[at + 1] = (byte)(set.IsConcatenation ? 0 : 6);
            at += 2;
            if (!set.IsConcatenation)
                at += PutU32(payload[at..], TypeOfMetaKey, (uint)meta!.Key);
        }
        if (set.Comment is not null)
            RuleUserData.WriteComment(payload[at..], UserDataComment, set.Comment);
    }

    private static int PutU32(Span<byte> destination, byte type, uint value)
    {
        destination[0] = type;
        destination[1] = 4;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[2..], value);
        return 6;
    }

    // nft's data types: addresses and ports are big endian; inet_proto (one byte) and mark are host order.
    private static bool KeyIsBigEndian(SetKeyType type) => type is not (SetKeyType.Mark or SetKeyType.InetProto or SetKeyType.NfProto);

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
        bool counters = false;
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
                case NftSetAttribute.EXPR: counters |= ExpressionCodec.Decode(a.Payload) is CounterExpression; break;
                case NftSetAttribute.EXPRESSIONS: counters |= ExpressionCodec.DecodeList(a.Payload).Exists(e => e is CounterExpression); break;
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
            ElementCounters = counters,
            Handle = handle,
        };
    }
}
