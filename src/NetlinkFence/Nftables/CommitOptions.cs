namespace NetlinkFence.Nftables;

/// <summary>How to commit a transaction.</summary>
public sealed record CommitOptions
{
    /// <summary>
    /// Commit only if the ruleset is still at this generation (<c>NFNL_BATCH_GENID</c>); the kernel refuses
    /// the batch with ERESTART otherwise, so a concurrent change is never mixed with this one. Null: no check.
    /// </summary>
    public uint? ExpectedGeneration { get; init; }
}
