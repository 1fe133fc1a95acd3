using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>Decodes <c>NFTA_RULE_EXPRESSIONS</c>; an unknown expression, or a known one with attributes we do not model, becomes a <see cref="RawExpression"/>.</summary>
internal static class ExpressionCodec
{
    public static List<Expression> DecodeList(ReadOnlySpan<byte> list)
    {
        var expressions = new List<Expression>();
        var elements = new AttributeReader(list);
        while (elements.TryRead(out var element))
        {
            if (element.Type != (ushort)NftListAttribute.ELEM)
                throw new NetlinkDecodeException($"expression list holds attribute type {element.Type}, expected NFTA_LIST_ELEM");
            expressions.Add(Decode(element.Payload));
        }
        return expressions;
    }

    public static Expression Decode(ReadOnlySpan<byte> element)
    {
        string? name = null;
        ReadOnlySpan<byte> data = default;
        var attributes = new AttributeReader(element);
        while (attributes.TryRead(out var attribute))
        {
            switch ((NftExpressionAttribute)attribute.Type)
            {
                case NftExpressionAttribute.NAME: name = attribute.String(); break;
                case NftExpressionAttribute.DATA: data = attribute.Payload; break;
            }
        }
        if (name is null)
            throw new NetlinkDecodeException("expression without NFTA_EXPR_NAME");
        Expression? decoded = name switch
        {
            "payload" => PayloadExpression.TryDecode(data),
            "meta" => MetaExpression.TryDecode(data),
            "cmp" => CmpExpression.TryDecode(data),
            "bitwise" => BitwiseExpression.TryDecode(data),
            "ct" => CtExpression.TryDecode(data),
            "immediate" => ImmediateExpression.TryDecode(data),
            "lookup" => LookupExpression.TryDecode(data),
            "range" => RangeExpression.TryDecode(data),
            "log" => LogExpression.TryDecode(data),
            "counter" => CounterExpression.TryDecode(data),
            "limit" => LimitExpression.TryDecode(data),
            "reject" => RejectExpression.TryDecode(data),
            "socket" => SocketExpression.TryDecode(data),
            "exthdr" => ExthdrExpression.TryDecode(data),
            "byteorder" => ByteorderExpression.TryDecode(data),
            _ => null,
        };
        return decoded ?? new RawExpression(name, new DataValue(data));
    }

    /// <summary>Writes <c>NFTA_DATA_VALUE</c> nested in <paramref name="type"/>.</summary>
    public static void WriteData(ref NetlinkWriter writer, ushort type, DataValue value)
    {
        var nest = writer.BeginNested(type);
        writer.WriteBytes((ushort)NftDataAttribute.VALUE, value.Span);
        writer.EndNested(nest);
    }

    /// <summary>Reads the <c>NFTA_DATA_VALUE</c> inside a data attribute, or null if it holds something else.</summary>
    public static DataValue? ReadData(in NetlinkAttribute attribute)
    {
        DataValue? value = null;
        var inner = attribute.Nested();
        while (inner.TryRead(out var a))
        {
            if (a.Type != (ushort)NftDataAttribute.VALUE)
                return null;
            value = new DataValue(a.Payload);
        }
        return value;
    }
}
