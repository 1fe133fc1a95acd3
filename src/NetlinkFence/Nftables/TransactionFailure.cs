using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables;

/// <summary>One object of a transaction the kernel refused, with the kernel's reason.</summary>
public sealed class TransactionFailure
{
    internal TransactionFailure(int operationIndex, int operationCount, string subject, string? origin, KernelError error, string? attribute)
    {
        OperationIndex = operationIndex;
        OperationCount = operationCount;
        Subject = subject;
        Origin = origin;
        Error = error;
        Attribute = attribute;
    }

    /// <summary>Zero-based index of the refused operation in the transaction; -1 for the batch as a whole.</summary>
    public int OperationIndex { get; }

    /// <summary>Number of operations in the transaction.</summary>
    public int OperationCount { get; }

    /// <summary>What was refused, e.g. <c>add rule in chain inet t output</c>.</summary>
    public string Subject { get; }

    /// <summary>Where the object came from, as given when it was added (e.g. a policy file position).</summary>
    public string? Origin { get; }

    /// <summary>The kernel's error: errno, its name, and the extended-ACK message.</summary>
    public KernelError Error { get; }

    /// <summary>The offending attribute, when the kernel pointed at one (e.g. <c>NFTA_RULE_EXPRESSIONS &gt; #3 lookup &gt; NFTA_LOOKUP_SET</c>).</summary>
    public string? Attribute { get; }

    /// <inheritdoc />
    public override string ToString()
    {
        string where = OperationIndex < 0 ? "the batch" : $"operation {OperationIndex + 1} of {OperationCount} ({Subject})";
        return where + (Origin is null ? "" : $" from {Origin}") + $": {Error}" + (Attribute is null ? "" : $" [at {Attribute}]");
    }
}
