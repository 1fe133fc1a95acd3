using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>
/// <c>[ exthdr load ipv6 1b @ 43 + 2 =&gt; reg 1 ]</c> (nft: <c>rt type</c>): loads <see cref="Length"/> bytes at
/// <see cref="Offset"/> of the packet's IPv6 extension header of type <see cref="HeaderType"/> (43: routing). A packet
/// without that header ends the rule (no match). Other forms of exthdr (TCP and IPv4 options, the presence flag,
/// writes) are kept raw.
/// </summary>
/// <param name="HeaderType">The extension header's next-header number (43: routing, 0: hop-by-hop, 60: destination options).</param>
/// <param name="Offset">Where in the header the loaded bytes start.</param>
/// <param name="Length">How many bytes are loaded.</param>
/// <param name="DestinationRegister">The register to load into.</param>
public sealed record ExthdrExpression(byte HeaderType, uint Offset, uint Length, uint DestinationRegister = Registers.R1) : Expression
{
    /// <summary>The routing header's next-header number (RFC 8200).</summary>
    public const byte RoutingHeader = 43;

    /// <inheritdoc />
    public override string Name => "exthdr";

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        // nft 1.0.6's order (golden bytes): DREG, TYPE, OFFSET, LEN, OP, FLAGS.
        writer.WriteU32BigEndian((ushort)NftExthdrAttribute.DREG, DestinationRegister);
        writer.WriteU8((ushort)NftExthdrAttribute.TYPE, HeaderType);
        writer.WriteU32BigEndian((ushort)NftExthdrAttribute.OFFSET, Offset);
        writer.WriteU32BigEndian((ushort)NftExthdrAttribute.LEN, Length);
        writer.WriteU32BigEndian((ushort)NftExthdrAttribute.OP, (uint)NftExthdrOp.IPV6);
        writer.WriteU32BigEndian((ushort)NftExthdrAttribute.FLAGS, 0);
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        uint? dreg = null, offset = null, length = null;
        byte? type = null;
        uint op = (uint)NftExthdrOp.IPV6, flags = 0; // both may be left out: the kernel's defaults
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            if (a.Payload.Length != ((NftExthdrAttribute)a.Type == NftExthdrAttribute.TYPE ? 1 : 4))
                return null; // not the shape this codec writes: kept raw, never an exception
            switch ((NftExthdrAttribute)a.Type)
            {
                case NftExthdrAttribute.DREG: dreg = a.U32BigEndian(); break;
                case NftExthdrAttribute.TYPE: type = a.U8(); break;
                case NftExthdrAttribute.OFFSET: offset = a.U32BigEndian(); break;
                case NftExthdrAttribute.LEN: length = a.U32BigEndian(); break;
                case NftExthdrAttribute.OP: op = a.U32BigEndian(); break;
                case NftExthdrAttribute.FLAGS: flags = a.U32BigEndian(); break;
                default: return null; // SREG: a write
            }
        }
        return op == (uint)NftExthdrOp.IPV6 && flags == 0 && dreg is not null && type is not null && offset is not null && length is not null
            ? new ExthdrExpression(type.Value, offset.Value, length.Value, dreg.Value)
            : null;
    }
}
