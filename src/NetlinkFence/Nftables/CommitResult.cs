namespace NetlinkFence.Nftables;

/// <summary>What a successful commit did.</summary>
public sealed class CommitResult
{
    internal CommitResult(uint generationBefore, uint generationAfter, int messages, long bytes, TimeSpan elapsed, IReadOnlyList<ulong>? ruleHandles = null)
    {
        RuleHandles = ruleHandles ?? [];
        GenerationBefore = generationBefore;
        GenerationAfter = generationAfter;
        Messages = messages;
        Bytes = bytes;
        Elapsed = elapsed;
    }

    /// <summary>The ruleset generation the transaction was checked against (0 when unchecked).</summary>
    public uint GenerationBefore { get; }

    /// <summary>
    /// The ruleset generation after the commit: the kernel's own NEWGEN echo of this commit when its first operation
    /// adds an object; else, when it was checked against a generation (<see cref="CommitOptions.ExpectedGeneration"/>),
    /// that generation plus one (the generation stays, though, if the commit changed nothing, e.g. only adding
    /// elements that were all there already); otherwise read right after the commit.
    /// </summary>
    public uint GenerationAfter { get; }

    /// <summary>Netlink messages in the batch, including BATCH_BEGIN and BATCH_END.</summary>
    public int Messages { get; }

    /// <summary>Bytes sent in the one sendmsg.</summary>
    public long Bytes { get; }

    /// <summary>Time from encoding to the kernel's answer.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>
    /// With <see cref="CommitOptions.EchoHandles"/>: the kernel's handle of every rule the transaction added,
    /// inserted or replaced, in transaction order (a replaced rule keeps its handle), so the caller can delete or
    /// replace exactly the rule it added (<c>rule with { Handle = h }</c>). 0 where the echo was lost (the socket's
    /// receive queue overflowed). Empty without the option.
    /// </summary>
    public IReadOnlyList<ulong> RuleHandles { get; }
}
