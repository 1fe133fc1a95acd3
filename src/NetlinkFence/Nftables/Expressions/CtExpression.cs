using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>Conntrack keys (<c>NFT_CT_*</c>).</summary>
public enum CtKey : uint
{
    /// <summary><c>ct state</c>.</summary>
    State = NftCtKey.STATE,
    /// <summary><c>ct direction</c>.</summary>
    Direction = NftCtKey.DIRECTION,
    /// <summary><c>ct status</c>.</summary>
    Status = NftCtKey.STATUS,
    /// <summary><c>ct mark</c>.</summary>
    Mark = NftCtKey.MARK,
    /// <summary><c>ct expiration</c>.</summary>
    Expiration = NftCtKey.EXPIRATION,
    /// <summary><c>ct helper</c>.</summary>
    Helper = NftCtKey.HELPER,
    /// <summary><c>ct l3proto</c>.</summary>
    L3Protocol = NftCtKey.L3PROTOCOL,
    /// <summary><c>ct protocol</c>.</summary>
    Protocol = NftCtKey.PROTOCOL,
    /// <summary><c>ct zone</c>.</summary>
    Zone = NftCtKey.ZONE,
}

/// <summary>Conntrack state bits as <c>ct state</c> loads them (host byte order).</summary>
[Flags]
public enum CtState : uint
{
    /// <summary><c>invalid</c>.</summary>
    Invalid = ConntrackStateBit.INVALID_BIT,
    /// <summary><c>established</c> (<c>NF_CT_STATE_BIT(IP_CT_ESTABLISHED)</c>).</summary>
    Established = 1u << (ConntrackInfo.ESTABLISHED + 1),
    /// <summary><c>related</c>.</summary>
    Related = 1u << (ConntrackInfo.RELATED + 1),
    /// <summary><c>new</c>.</summary>
    New = 1u << (ConntrackInfo.NEW + 1),
    /// <summary><c>untracked</c>.</summary>
    Untracked = ConntrackStateBit.UNTRACKED_BIT,
}

/// <summary><c>[ ct load state =&gt; reg 1 ]</c>: loads connection-tracking data into a register.</summary>
/// <param name="Key">What to load.</param>
/// <param name="DestinationRegister">The register to load into.</param>
/// <param name="Direction">0 original, 1 reply, for direction-specific keys; null otherwise.</param>
public sealed record CtExpression(CtKey Key, uint DestinationRegister = Registers.R1, byte? Direction = null) : Expression
{
    /// <inheritdoc />
    public override string Name => "ct";

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        // KEY before DREG, as nft 1.0.6 writes it (golden bytes).
        writer.WriteU32BigEndian((ushort)NftCtAttribute.KEY, (uint)Key);
        writer.WriteU32BigEndian((ushort)NftCtAttribute.DREG, DestinationRegister);
        if (Direction is { } direction)
            writer.WriteU8((ushort)NftCtAttribute.DIRECTION, direction);
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        uint? key = null, dreg = null;
        byte? direction = null;
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            switch ((NftCtAttribute)a.Type)
            {
                case NftCtAttribute.KEY: key = a.U32BigEndian(); break;
                case NftCtAttribute.DREG: dreg = a.U32BigEndian(); break;
                case NftCtAttribute.DIRECTION: direction = a.U8(); break;
                default: return null; // ct set (sreg) is kept raw
            }
        }
        return key is null || dreg is null ? null : new CtExpression((CtKey)key, dreg.Value, direction);
    }
}
