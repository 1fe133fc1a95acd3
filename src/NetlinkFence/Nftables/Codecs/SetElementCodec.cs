using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Expressions;

namespace NetlinkFence.Nftables.Codecs;

/// <summary>Encodes and decodes set elements (<c>NFTA_SET_ELEM_*</c>).</summary>
internal static class SetElementCodec
{
    /// <summary>Upper bound of one encoded element, used to split element lists under the 64 KiB attribute limit.</summary>
    public const int MaxElementSize = 512;

    public static void WriteListHeader(ref NetlinkWriter writer, NftSet set, uint setId)
    {
        writer.WriteString((ushort)NftSetElementListAttribute.TABLE, set.Table);
        writer.WriteString((ushort)NftSetElementListAttribute.SET, set.Name);
        if (setId != 0)
            writer.WriteU32BigEndian((ushort)NftSetElementListAttribute.SET_ID, setId);
    }

    /// <summary>
    /// Writes one element nest. <paramref name="nestType"/> is the nest's attribute type: nft 1.0.6 (libnftnl)
    /// numbers the elements of a message 1, 2, 3, ... (golden bytes), and the kernel ignores the type of the
    /// nests inside <c>NFTA_SET_ELEM_LIST_ELEMENTS</c>; the default is <c>NFTA_LIST_ELEM</c> (1).
    /// <paramref name="retime"/>, when given, is sent as both timeout and time left in place of the element's own
    /// (<see cref="Transaction.RetimeElements"/>).
    /// </summary>
    public static void Encode(ref NetlinkWriter writer, SetElement element, ushort nestType = (ushort)NftListAttribute.ELEM, TimeSpan? retime = null)
    {
        var nest = writer.BeginNested(nestType);
        if (element.IntervalEnd)
            writer.WriteU32BigEndian((ushort)NftSetElementAttribute.FLAGS, (uint)NftSetElementFlags.INTERVAL_END);
        if (retime is { } moved)
        {
            writer.WriteU64BigEndian((ushort)NftSetElementAttribute.TIMEOUT, (ulong)moved.TotalMilliseconds);
            writer.WriteU64BigEndian((ushort)NftSetElementAttribute.EXPIRATION, (ulong)moved.TotalMilliseconds);
        }
        else if (element.Timeout is { } timeout)
        {
            writer.WriteU64BigEndian((ushort)NftSetElementAttribute.TIMEOUT, (ulong)timeout.TotalMilliseconds);
            // Time left (a refreshed element, a restored snapshot): the kernel counts from it rather than the timeout.
            if (element.Expiration is { } expiration && expiration > TimeSpan.Zero && expiration <= timeout)
                writer.WriteU64BigEndian((ushort)NftSetElementAttribute.EXPIRATION, (ulong)expiration.TotalMilliseconds);
        }
        ExpressionCodec.WriteData(ref writer, (ushort)NftSetElementAttribute.KEY, element.Key);
        if (element.KeyEnd is { } end)
            ExpressionCodec.WriteData(ref writer, (ushort)NftSetElementAttribute.KEY_END, end);
        if (element.UserData is { } userData)
            writer.WriteBytes((ushort)NftSetElementAttribute.USERDATA, userData.Span);
        writer.EndNested(nest);
    }

    /// <summary>Decodes the elements of one NEWSETELEM dump message into <paramref name="into"/>.</summary>
    public static void Decode(in NetlinkMessage message, List<SetElement> into)
    {
        var attributes = message.Attributes;
        while (attributes.TryRead(out var a))
        {
            if (a.Type != (ushort)NftSetElementListAttribute.ELEMENTS)
                continue;
            var elements = a.Nested();
            while (elements.TryRead(out var e))
                into.Add(DecodeElement(e.Nested()));
        }
    }

    private static SetElement DecodeElement(AttributeReader attributes)
    {
        DataValue? key = null, keyEnd = null, userData = null;
        uint flags = 0;
        TimeSpan? timeout = null, expiration = null;
        CounterExpression? counter = null;
        while (attributes.TryRead(out var a))
        {
            switch ((NftSetElementAttribute)a.Type)
            {
                case NftSetElementAttribute.KEY: key = ExpressionCodec.ReadData(a); break;
                case NftSetElementAttribute.KEY_END: keyEnd = ExpressionCodec.ReadData(a); break;
                case NftSetElementAttribute.FLAGS: flags = a.U32BigEndian(); break;
                case NftSetElementAttribute.TIMEOUT: timeout = TimeSpan.FromMilliseconds(a.U64BigEndian()); break;
                case NftSetElementAttribute.EXPIRATION: expiration = TimeSpan.FromMilliseconds(a.U64BigEndian()); break;
                case NftSetElementAttribute.USERDATA: userData = new DataValue(a.Payload); break;
                // The kernel lists one set expression as EXPR, several as the EXPRESSIONS list.
                case NftSetElementAttribute.EXPR: counter ??= ExpressionCodec.Decode(a.Payload) as CounterExpression; break;
                case NftSetElementAttribute.EXPRESSIONS: counter ??= ExpressionCodec.DecodeList(a.Payload).OfType<CounterExpression>().FirstOrDefault(); break;
            }
        }
        bool intervalEnd = (flags & (uint)NftSetElementFlags.INTERVAL_END) != 0;
        return new SetElement(key ?? (intervalEnd ? default : throw new NetlinkDecodeException("set element without NFTA_SET_ELEM_KEY")))
        {
            KeyEnd = keyEnd,
            IntervalEnd = intervalEnd,
            Timeout = timeout,
            Expiration = expiration,
            UserData = userData,
            Counter = counter,
        };
    }
}
