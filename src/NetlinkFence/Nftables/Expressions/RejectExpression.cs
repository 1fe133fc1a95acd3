using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>How a packet is rejected.</summary>
public enum RejectType : uint
{
    /// <summary>ICMP (v4 or v6 by family) unreachable with <see cref="RejectExpression.IcmpCode"/>.</summary>
    IcmpUnreachable = NftRejectType.ICMP_UNREACH,
    /// <summary>TCP reset.</summary>
    TcpReset = NftRejectType.TCP_RST,
    /// <summary>Family-independent ICMPx code (inet tables).</summary>
    IcmpxUnreachable = NftRejectType.ICMPX_UNREACH,
}

/// <summary><c>reject with icmpx type admin-prohibited</c>: drops the packet and tells the sender.</summary>
/// <param name="Type">How to reject.</param>
/// <param name="IcmpCode">The ICMP or ICMPx code (e.g. <c>NFT_REJECT_ICMPX_ADMIN_PROHIBITED</c> = 3).</param>
public sealed record RejectExpression(RejectType Type, byte IcmpCode = 0) : Expression
{
    /// <inheritdoc />
    public override string Name => "reject";

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        writer.WriteU32BigEndian((ushort)NftRejectAttribute.TYPE, (uint)Type);
        writer.WriteU8((ushort)NftRejectAttribute.ICMP_CODE, IcmpCode);
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        uint? type = null;
        byte code = 0;
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            switch ((NftRejectAttribute)a.Type)
            {
                case NftRejectAttribute.TYPE: type = a.U32BigEndian(); break;
                case NftRejectAttribute.ICMP_CODE: code = a.U8(); break;
                default: return null;
            }
        }
        return type is null ? null : new RejectExpression((RejectType)type, code);
    }
}
