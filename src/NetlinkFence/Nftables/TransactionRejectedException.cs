namespace NetlinkFence.Nftables;

/// <summary>
/// The kernel refused a transaction. Nothing of it was applied: nf_tables batches are atomic, so the
/// ruleset is exactly as it was before the commit. <see cref="NetlinkFenceException.Errno"/> is the cause's errno: the
/// batch's own error when the kernel refused the batch as a whole (EPERM, or ERESTART for a generation conflict), else
/// that of the first refused object (later ones often only follow from it); null when every error reply was lost.
/// </summary>
public sealed class TransactionRejectedException : NetlinkFenceException
{
    internal TransactionRejectedException(IReadOnlyList<TransactionFailure> failures, string? summary = null, bool incomplete = false)
        : base(Format(failures, summary) + (incomplete && summary is null
            ? $"; only {failures.Count} error replies were received, the rest were lost (socket receive queue overflow, ENOBUFS)"
            : ""), Cause(failures)?.Error.Errno)
    {
        Failures = failures;
        FailuresIncomplete = incomplete;
    }

    /// <summary>
    /// True when the kernel's error replies overflowed the socket's receive queue: the transaction was still
    /// refused as a whole, but <see cref="Failures"/> lists only the errors that arrived.
    /// </summary>
    public bool FailuresIncomplete { get; }

    /// <summary>Every refused object (the kernel reports all of them, not just the first).</summary>
    public IReadOnlyList<TransactionFailure> Failures { get; }

    /// <summary>
    /// True when the caller lacks CAP_NET_ADMIN in the target network namespace (the kernel refuses the batch
    /// as a whole). An EPERM on one object, such as a table another process owns, is a refusal, not this.
    /// </summary>
    public override bool IsPermissionDenied => Failures.Any(f => f.Error.Errno == (int)Interop.Uapi.Errno.PERM && f.OperationIndex < 0);

    private static TransactionFailure? Cause(IReadOnlyList<TransactionFailure> failures) =>
        failures.FirstOrDefault(f => f.OperationIndex < 0) ?? failures.FirstOrDefault();

    private static string Format(IReadOnlyList<TransactionFailure> failures, string? summary)
    {
        if (summary is not null)
            return summary;
        if (failures.Any(f => f.Error.Errno == (int)Interop.Uapi.Errno.PERM && f.OperationIndex < 0))
            return "permission denied: changing nftables needs CAP_NET_ADMIN in the target network namespace (run as root)";
        if (failures.Any(f => f.Error.Errno == (int)Interop.Uapi.Errno.RESTART && f.OperationIndex < 0))
            return "the ruleset changed since it was read (generation id mismatch); nothing was applied: read it again and retry";
        string first = failures.Count > 0 ? failures[0].ToString() : "no details";
        string more = failures.Count > 1 ? $" (and {failures.Count - 1} more)" : "";
        return $"the kernel refused the transaction, nothing was applied: {first}{more}";
    }
}
