using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>
/// <c>[ byteorder reg 11 = hton(reg 11, 8, 8) ]</c>: converts <see cref="Length"/> bytes of a register in units of
/// <see cref="Size"/> bytes between host and network order. nft puts one after a host-order load (meta skuid, socket
/// cgroupv2) that is part of an interval concatenation: the kernel's interval set compares keys byte by byte, so it
/// stores such fields in network order.
/// </summary>
/// <param name="SourceRegister">The register read.</param>
/// <param name="DestinationRegister">The register written (the same one, as nft emits it).</param>
/// <param name="ToNetworkOrder">True for <c>hton</c>, false for <c>ntoh</c>.</param>
/// <param name="Length">Bytes converted.</param>
/// <param name="Size">Bytes per value: 2, 4 or 8.</param>
public sealed record ByteorderExpression(uint SourceRegister, uint DestinationRegister, bool ToNetworkOrder, uint Length, uint Size) : Expression
{
    /// <inheritdoc />
    public override string Name => "byteorder";

    /// <summary>A host-to-network conversion of one <paramref name="size"/>-byte value in <paramref name="register"/>, in place.</summary>
    public static ByteorderExpression HostToNetwork(uint register, uint size) => new(register, register, true, size, size);

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        // nft 1.0.6's order (golden bytes): SREG, DREG, OP, LEN, SIZE.
        writer.WriteU32BigEndian((ushort)NftByteorderAttribute.SREG, SourceRegister);
        writer.WriteU32BigEndian((ushort)NftByteorderAttribute.DREG, DestinationRegister);
        writer.WriteU32BigEndian((ushort)NftByteorderAttribute.OP, (uint)(ToNetworkOrder ? NftByteorderOp.HTON : NftByteorderOp.NTOH));
        writer.WriteU32BigEndian((ushort)NftByteorderAttribute.LEN, Length);
        writer.WriteU32BigEndian((ushort)NftByteorderAttribute.SIZE, Size);
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        uint? sreg = null, dreg = null, op = null, length = null, size = null;
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            if (a.Payload.Length != 4)
                return null; // not the shape this codec writes: kept raw, never an exception
            switch ((NftByteorderAttribute)a.Type)
            {
                case NftByteorderAttribute.SREG: sreg = a.U32BigEndian(); break;
                case NftByteorderAttribute.DREG: dreg = a.U32BigEndian(); break;
                case NftByteorderAttribute.OP: op = a.U32BigEndian(); break;
                case NftByteorderAttribute.LEN: length = a.U32BigEndian(); break;
                case NftByteorderAttribute.SIZE: size = a.U32BigEndian(); break;
                default: return null;
            }
        }
        if (sreg is null || dreg is null || op is not ((uint)NftByteorderOp.HTON or (uint)NftByteorderOp.NTOH) || length is null || size is null)
            return null;
        return new ByteorderExpression(sreg.Value, dreg.Value, op == (uint)NftByteorderOp.HTON, length.Value, size.Value);
    }
}
