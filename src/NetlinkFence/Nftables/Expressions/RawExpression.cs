using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>
/// An expression this library does not model, kept byte-for-byte as the kernel sent it so nothing read
/// back is ever silently dropped; it re-encodes identically.
/// </summary>
/// <param name="KernelName">The kernel's expression name.</param>
/// <param name="Data">The raw attributes inside <c>NFTA_EXPR_DATA</c>.</param>
public sealed record RawExpression(string KernelName, DataValue Data) : Expression
{
    /// <inheritdoc />
    public override string Name => KernelName;

    internal override void EncodeData(ref NetlinkWriter writer) => Data.Span.CopyTo(writer.Reserve(Data.Count));
}
