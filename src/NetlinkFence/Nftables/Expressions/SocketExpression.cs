using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>
/// <c>[ socket load cgroupv2 =&gt; reg 11 ]</c> (nft: <c>socket cgroupv2 level 2</c>): loads the id (8 bytes, host order)
/// of the sending socket's cgroup v2 ancestor at <see cref="Level"/> (0 is the root), so a cgroup and everything below
/// it match one id. No socket, or a socket whose cgroup is not that deep, ends the rule (no match).
/// </summary>
/// <param name="Level">The ancestor level: the number of path components of the cgroup the set's ids name.</param>
/// <param name="DestinationRegister">The register to load into.</param>
public sealed record SocketExpression(uint Level, uint DestinationRegister = Registers.R1) : Expression
{
    /// <inheritdoc />
    public override string Name => "socket";

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        // nft 1.0.6's order (golden bytes): KEY, DREG, LEVEL.
        writer.WriteU32BigEndian((ushort)NftSocketAttribute.KEY, (uint)NftSocketKey.CGROUPV2);
        writer.WriteU32BigEndian((ushort)NftSocketAttribute.DREG, DestinationRegister);
        writer.WriteU32BigEndian((ushort)NftSocketAttribute.LEVEL, Level);
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        uint? key = null, dreg = null, level = null;
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            if (a.Payload.Length != 4)
                return null; // not the shape this codec writes: kept raw, never an exception
            switch ((NftSocketAttribute)a.Type)
            {
                case NftSocketAttribute.KEY: key = a.U32BigEndian(); break;
                case NftSocketAttribute.DREG: dreg = a.U32BigEndian(); break;
                case NftSocketAttribute.LEVEL: level = a.U32BigEndian(); break;
                default: return null;
            }
        }
        // Other socket keys (transparent, mark, wildcard) are kept raw.
        return key == (uint)NftSocketKey.CGROUPV2 && dreg is not null && level is not null ? new SocketExpression(level.Value, dreg.Value) : null;
    }
}
