using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary><c>[ range eq reg 1 0x0400 0x0800 ]</c>: the register lies (or, with <see cref="Negate"/>, does not lie) in [From, To].</summary>
/// <param name="Negate">True for <c>!=</c> (NFT_RANGE_NEQ).</param>
/// <param name="SourceRegister">The register to test.</param>
/// <param name="From">Lower bound, inclusive, in the register's byte order.</param>
/// <param name="To">Upper bound, inclusive.</param>
public sealed record RangeExpression(bool Negate, uint SourceRegister, DataValue From, DataValue To) : Expression
{
    /// <inheritdoc />
    public override string Name => "range";

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        writer.WriteU32BigEndian((ushort)NftRangeAttribute.SREG, SourceRegister);
        writer.WriteU32BigEndian((ushort)NftRangeAttribute.OP, Negate ? (uint)NftRangeOp.NEQ : (uint)NftRangeOp.EQ);
        ExpressionCodec.WriteData(ref writer, (ushort)NftRangeAttribute.FROM_DATA, From);
        ExpressionCodec.WriteData(ref writer, (ushort)NftRangeAttribute.TO_DATA, To);
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        uint? sreg = null, op = null;
        DataValue? from = null, to = null;
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            switch ((NftRangeAttribute)a.Type)
            {
                case NftRangeAttribute.SREG: sreg = a.U32BigEndian(); break;
                case NftRangeAttribute.OP: op = a.U32BigEndian(); break;
                case NftRangeAttribute.FROM_DATA: from = ExpressionCodec.ReadData(a); break;
                case NftRangeAttribute.TO_DATA: to = ExpressionCodec.ReadData(a); break;
                default: return null;
            }
        }
        return sreg is null || op is not ((uint)NftRangeOp.EQ or (uint)NftRangeOp.NEQ) || from is null || to is null
            ? null
            : new RangeExpression(op == (uint)NftRangeOp.NEQ, sreg.Value, from.Value, to.Value);
    }
}
