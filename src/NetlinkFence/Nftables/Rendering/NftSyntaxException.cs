namespace NetlinkFence.Nftables.Rendering;

/// <summary>
/// A string (a name, comment or log prefix) cannot be written in nft syntax without changing what the text means,
/// e.g. a chain name with a space or a comment with a <c>"</c>, typically written into the kernel by another tool.
/// Rendering refuses rather than print something <c>nft -f</c> would read differently.
/// </summary>
public sealed class NftSyntaxException : NetlinkFenceException
{
    /// <summary>Creates the exception for the string <paramref name="text"/>, a <paramref name="what"/> (e.g. <c>chain name</c>), refused because of <paramref name="reason"/>.</summary>
    public NftSyntaxException(string what, string text, string reason)
        : base($"{what} \"{NftSyntax.Comment(text)}\" cannot be written in nft syntax: {reason}")
    {
        What = what;
        Reason = reason;
    }

    /// <summary>What kind of string was refused, e.g. <c>rule comment</c> or <c>chain name</c>.</summary>
    public string What { get; }

    /// <summary>Why, e.g. <c>nft quoted strings have no escape for U+000A</c>.</summary>
    public string Reason { get; }
}
