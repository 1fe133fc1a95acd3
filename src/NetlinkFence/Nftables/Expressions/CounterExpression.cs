using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary><c>counter packets 0 bytes 0</c>: counts the packets that reach it.</summary>
/// <param name="Packets">Packets counted (initial value when adding).</param>
/// <param name="Bytes">Bytes counted (initial value when adding).</param>
public sealed record CounterExpression(ulong Packets = 0, ulong Bytes = 0) : Expression
{
    /// <inheritdoc />
    public override string Name => "counter";

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        // nft 1.0.6 sends a new counter with an empty data nest (golden bytes); the kernel starts it at zero.
        // Non-zero initial values are written as libnftnl orders them: BYTES, PACKETS.
        if (Bytes != 0 || Packets != 0)
        {
            writer.WriteU64BigEndian((ushort)NftCounterAttribute.BYTES, Bytes);
            writer.WriteU64BigEndian((ushort)NftCounterAttribute.PACKETS, Packets);
        }
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        ulong bytes = 0, packets = 0;
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            switch ((NftCounterAttribute)a.Type)
            {
                case NftCounterAttribute.BYTES: bytes = a.U64BigEndian(); break;
                case NftCounterAttribute.PACKETS: packets = a.U64BigEndian(); break;
                case NftCounterAttribute.PAD: break;
                default: return null;
            }
        }
        return new CounterExpression(packets, bytes);
    }
}
