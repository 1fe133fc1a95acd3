using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary><c>[ lookup reg 1 set allow_v4 ]</c>: the rule continues only if the register's value is (or, inverted, is not) in the set.</summary>
/// <param name="SetName">The named set.</param>
/// <param name="SourceRegister">The register holding the key (the first register of a concatenation).</param>
/// <param name="SetId">Transaction-local set id, so a rule can refer to a set created in the same batch.</param>
/// <param name="Invert">True for <c>!= @set</c>.</param>
public sealed record LookupExpression(string SetName, uint SourceRegister = Registers.R1, uint SetId = 0, bool Invert = false) : Expression
{
    /// <inheritdoc />
    public override string Name => "lookup";

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        // nft 1.0.6's order (golden bytes): SREG, SET, SET_ID; FLAGS only when inverted (absent means 0).
        writer.WriteU32BigEndian((ushort)NftLookupAttribute.SREG, SourceRegister);
        writer.WriteString((ushort)NftLookupAttribute.SET, SetName);
        if (SetId != 0)
            writer.WriteU32BigEndian((ushort)NftLookupAttribute.SET_ID, SetId);
        if (Invert)
            writer.WriteU32BigEndian((ushort)NftLookupAttribute.FLAGS, (uint)NftLookupFlags.INV);
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        string? set = null;
        uint? sreg = null;
        uint setId = 0, flags = 0;
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            switch ((NftLookupAttribute)a.Type)
            {
                case NftLookupAttribute.SET: set = a.String(); break;
                case NftLookupAttribute.SREG: sreg = a.U32BigEndian(); break;
                case NftLookupAttribute.SET_ID: setId = a.U32BigEndian(); break;
                case NftLookupAttribute.FLAGS: flags = a.U32BigEndian(); break;
                default: return null; // maps (dreg) are kept raw
            }
        }
        if (set is null || sreg is null || (flags & ~(uint)NftLookupFlags.INV) != 0)
            return null;
        return new LookupExpression(set, sreg.Value, setId, (flags & (uint)NftLookupFlags.INV) != 0);
    }
}
