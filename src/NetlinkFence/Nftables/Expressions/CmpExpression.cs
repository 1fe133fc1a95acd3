using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>Comparison operators of <c>cmp</c>.</summary>
public enum CmpOp : uint
{
    /// <summary><c>==</c>.</summary>
    Eq = NftCmpOp.EQ,
    /// <summary><c>!=</c>.</summary>
    Neq = NftCmpOp.NEQ,
    /// <summary><c>&lt;</c>.</summary>
    Lt = NftCmpOp.LT,
    /// <summary><c>&lt;=</c>.</summary>
    Lte = NftCmpOp.LTE,
    /// <summary><c>&gt;</c>.</summary>
    Gt = NftCmpOp.GT,
    /// <summary><c>&gt;=</c>.</summary>
    Gte = NftCmpOp.GTE,
}

/// <summary><c>[ cmp eq reg 1 0x00000006 ]</c>: compares a register with a constant; the rule stops on mismatch.</summary>
/// <param name="Op">The operator.</param>
/// <param name="SourceRegister">The register to compare.</param>
/// <param name="Data">The constant, in the register's byte order.</param>
public sealed record CmpExpression(CmpOp Op, uint SourceRegister, DataValue Data) : Expression
{
    /// <inheritdoc />
    public override string Name => "cmp";

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        writer.WriteU32BigEndian((ushort)NftCmpAttribute.SREG, SourceRegister);
        writer.WriteU32BigEndian((ushort)NftCmpAttribute.OP, (uint)Op);
        ExpressionCodec.WriteData(ref writer, (ushort)NftCmpAttribute.DATA, Data);
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        uint? sreg = null, op = null;
        DataValue? value = null;
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            switch ((NftCmpAttribute)a.Type)
            {
                case NftCmpAttribute.SREG: sreg = a.U32BigEndian(); break;
                case NftCmpAttribute.OP: op = a.U32BigEndian(); break;
                case NftCmpAttribute.DATA: value = ExpressionCodec.ReadData(a); break;
                default: return null;
            }
        }
        return sreg is null || op is null || value is null ? null : new CmpExpression((CmpOp)op, sreg.Value, value.Value);
    }
}
