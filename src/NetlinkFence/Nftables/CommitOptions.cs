namespace NetlinkFence.Nftables;

/// <summary>How to commit a transaction.</summary>
public sealed record CommitOptions
{
    /// <summary>
    /// Commit only if the ruleset is still at this generation (<c>NFNL_BATCH_GENID</c>); the kernel refuses
    /// the batch with ERESTART otherwise, so a concurrent change is never mixed with this one. Null: no check.
    /// </summary>
    public uint? ExpectedGeneration { get; init; }

    /// <summary>
    /// Ask the kernel for the handles of the rules this transaction adds (NLM_F_ECHO on each NEWRULE: at commit it
    /// sends every new rule back) and return them in <see cref="CommitResult.RuleHandles"/>. Off by default: a large
    /// commit would otherwise receive its whole ruleset back.
    /// </summary>
    public bool EchoHandles { get; init; }
}
