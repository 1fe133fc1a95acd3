using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>
/// <c>[ bitwise reg 1 = ( reg 1 &amp; 0x0000000e ) ^ 0x00000000 ]</c>: masks a register (ct state bits, CIDR prefixes).
/// </summary>
/// <param name="SourceRegister">The input register.</param>
/// <param name="DestinationRegister">The output register.</param>
/// <param name="Length">Number of bytes.</param>
/// <param name="Mask">AND mask.</param>
/// <param name="Xor">XOR value.</param>
public sealed record BitwiseExpression(uint SourceRegister, uint DestinationRegister, uint Length, DataValue Mask, DataValue Xor) : Expression
{
    /// <inheritdoc />
    public override string Name => "bitwise";

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        writer.WriteU32BigEndian((ushort)NftBitwiseAttribute.SREG, SourceRegister);
        writer.WriteU32BigEndian((ushort)NftBitwiseAttribute.DREG, DestinationRegister);
        writer.WriteU32BigEndian((ushort)NftBitwiseAttribute.LEN, Length);
        ExpressionCodec.WriteData(ref writer, (ushort)NftBitwiseAttribute.MASK, Mask);
        ExpressionCodec.WriteData(ref writer, (ushort)NftBitwiseAttribute.XOR, Xor);
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        uint? sreg = null, dreg = null, length = null;
        DataValue? mask = null, xor = null;
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            switch ((NftBitwiseAttribute)a.Type)
            {
                case NftBitwiseAttribute.SREG: sreg = a.U32BigEndian(); break;
                case NftBitwiseAttribute.DREG: dreg = a.U32BigEndian(); break;
                case NftBitwiseAttribute.LEN: length = a.U32BigEndian(); break;
                case NftBitwiseAttribute.MASK: mask = ExpressionCodec.ReadData(a); break;
                case NftBitwiseAttribute.XOR: xor = ExpressionCodec.ReadData(a); break;
                case NftBitwiseAttribute.OP when a.U32BigEndian() == (uint)NftBitwiseOp.MASK_XOR: break;
                default: return null; // shifts are kept raw
            }
        }
        return sreg is null || dreg is null || length is null || mask is null || xor is null
            ? null
            : new BitwiseExpression(sreg.Value, dreg.Value, length.Value, mask.Value, xor.Value);
    }
}
