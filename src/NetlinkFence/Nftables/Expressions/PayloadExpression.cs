using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>Which header a payload offset is relative to.</summary>
public enum PayloadBase : uint
{
    /// <summary>Link-layer header.</summary>
    LinkLayer = NftPayloadBase.LL_HEADER,
    /// <summary>Network header (IPv4/IPv6).</summary>
    Network = NftPayloadBase.NETWORK_HEADER,
    /// <summary>Transport header (TCP/UDP/ICMP).</summary>
    Transport = NftPayloadBase.TRANSPORT_HEADER,
    /// <summary>Inner header.</summary>
    Inner = NftPayloadBase.INNER_HEADER,
}

/// <summary><c>[ payload load 4b @ network header + 16 =&gt; reg 1 ]</c>: loads packet bytes into a register.</summary>
/// <param name="Base">The header the offset is relative to.</param>
/// <param name="Offset">Byte offset in that header.</param>
/// <param name="Length">Number of bytes.</param>
/// <param name="DestinationRegister">The register to load into.</param>
public sealed record PayloadExpression(PayloadBase Base, uint Offset, uint Length, uint DestinationRegister = Registers.R1) : Expression
{
    /// <inheritdoc />
    public override string Name => "payload";

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        writer.WriteU32BigEndian((ushort)NftPayloadAttribute.DREG, DestinationRegister);
        writer.WriteU32BigEndian((ushort)NftPayloadAttribute.BASE, (uint)Base);
        writer.WriteU32BigEndian((ushort)NftPayloadAttribute.OFFSET, Offset);
        writer.WriteU32BigEndian((ushort)NftPayloadAttribute.LEN, Length);
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        uint? dreg = null, @base = null, offset = null, length = null;
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            switch ((NftPayloadAttribute)a.Type)
            {
                case NftPayloadAttribute.DREG: dreg = a.U32BigEndian(); break;
                case NftPayloadAttribute.BASE: @base = a.U32BigEndian(); break;
                case NftPayloadAttribute.OFFSET: offset = a.U32BigEndian(); break;
                case NftPayloadAttribute.LEN: length = a.U32BigEndian(); break;
                default: return null; // payload writes (sreg, checksums) are kept raw
            }
        }
        return dreg is null || @base is null || offset is null || length is null
            ? null
            : new PayloadExpression((PayloadBase)@base, offset.Value, length.Value, dreg.Value);
    }
}
