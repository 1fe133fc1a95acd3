using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>What a limit counts.</summary>
public enum LimitType : uint
{
    /// <summary>Packets.</summary>
    Packets = NftLimitType.PKTS,
    /// <summary>Bytes.</summary>
    Bytes = NftLimitType.PKT_BYTES,
}

/// <summary><c>limit rate 10/second</c>: matches while the rate stays under <see cref="Rate"/> per <see cref="UnitSeconds"/>.</summary>
/// <param name="Rate">Packets (or bytes) per unit.</param>
/// <param name="UnitSeconds">The unit in seconds: 1 second, 60 minute, 3600 hour, 86400 day, 604800 week.</param>
/// <param name="Burst">Burst allowance (nft's default for packets is 5).</param>
/// <param name="Type">Packets or bytes.</param>
/// <param name="Invert">True for <c>limit rate over</c>.</param>
public sealed record LimitExpression(ulong Rate, ulong UnitSeconds, uint Burst = 5, LimitType Type = LimitType.Packets, bool Invert = false) : Expression
{
    /// <inheritdoc />
    public override string Name => "limit";

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        writer.WriteU64BigEndian((ushort)NftLimitAttribute.RATE, Rate);
        writer.WriteU64BigEndian((ushort)NftLimitAttribute.UNIT, UnitSeconds);
        writer.WriteU32BigEndian((ushort)NftLimitAttribute.BURST, Burst);
        writer.WriteU32BigEndian((ushort)NftLimitAttribute.TYPE, (uint)Type);
        writer.WriteU32BigEndian((ushort)NftLimitAttribute.FLAGS, Invert ? (uint)NftLimitFlags.INV : 0);
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        ulong? rate = null, unit = null;
        uint burst = 0, type = 0, flags = 0;
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            switch ((NftLimitAttribute)a.Type)
            {
                case NftLimitAttribute.RATE: rate = a.U64BigEndian(); break;
                case NftLimitAttribute.UNIT: unit = a.U64BigEndian(); break;
                case NftLimitAttribute.BURST: burst = a.U32BigEndian(); break;
                case NftLimitAttribute.TYPE: type = a.U32BigEndian(); break;
                case NftLimitAttribute.FLAGS: flags = a.U32BigEndian(); break;
                case NftLimitAttribute.PAD: break;
                default: return null;
            }
        }
        if (rate is null || unit is null || (flags & ~(uint)NftLimitFlags.INV) != 0)
            return null;
        return new LimitExpression(rate.Value, unit.Value, burst, (LimitType)type, (flags & (uint)NftLimitFlags.INV) != 0);
    }
}
