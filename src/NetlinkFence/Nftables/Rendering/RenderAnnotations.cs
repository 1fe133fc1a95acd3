namespace NetlinkFence.Nftables.Rendering;

/// <summary>
/// <c>#</c> comment lines to print before sets and rules (e.g. where each came from in a policy), so rendered
/// text explains itself and stays a valid <c>nft -f</c> file. Lines may hold anything (file names, text from the
/// kernel): control characters and non-ASCII are printed as visible escapes, so a line never ends early.
/// </summary>
public sealed record RenderAnnotations
{
    /// <summary>Lines (without the leading <c>#</c>) to print before a set.</summary>
    public Func<NftSet, IEnumerable<string>>? BeforeSet { get; init; }

    /// <summary>Lines (without the leading <c>#</c>) to print before a rule.</summary>
    public Func<Rule, IEnumerable<string>>? BeforeRule { get; init; }
}
