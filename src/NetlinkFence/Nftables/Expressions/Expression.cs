using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>
/// One step of a rule, as the kernel sees it (<c>[ payload load 4b @ network header + 16 =&gt; reg 1 ]</c>).
/// Each expression type owns its encoding and decoding; the hierarchy is closed to this library.
/// </summary>
public abstract record Expression
{
    private protected Expression() { }

    /// <summary>The kernel's name of the expression type, e.g. <c>payload</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Writes the attributes inside <c>NFTA_EXPR_DATA</c>.</summary>
    internal abstract void EncodeData(ref NetlinkWriter writer);

    /// <summary>Writes one <c>NFTA_LIST_ELEM</c> { <c>NFTA_EXPR_NAME</c>, <c>NFTA_EXPR_DATA</c> { ... } }.</summary>
    internal void Encode(ref NetlinkWriter writer)
    {
        var element = writer.BeginNested((ushort)NftListAttribute.ELEM);
        writer.WriteString((ushort)NftExpressionAttribute.NAME, Name);
        var data = writer.BeginNested((ushort)NftExpressionAttribute.DATA);
        EncodeData(ref writer);
        writer.EndNested(data);
        writer.EndNested(element);
    }
}
