namespace NetlinkFence.Nftables;

/// <summary>A set read back from the kernel, with its elements.</summary>
/// <param name="Set">The set.</param>
/// <param name="Elements">Its elements, as the kernel lists them.</param>
public sealed record SetContents(NftSet Set, IReadOnlyList<SetElement> Elements);
