namespace NetlinkFence.Policy;

/// <summary>
/// The kernel accepted the commit, but the table read back at the generation that commit made differs from what the
/// policy compiles to (e.g. an expression the kernel normalised differently): the live ruleset is not the verified one.
/// </summary>
public sealed class ReadBackMismatchException : NetlinkFenceException
{
    internal ReadBackMismatchException(IReadOnlyList<TableDifference> differences)
        : base("the kernel accepted the ruleset but reads back differently: " + string.Join("; ", differences.Take(5)))
    {
        Differences = differences;
    }

    /// <summary>How the live table differs from the policy (<c>+</c> only live, <c>-</c> only in the policy, <c>~</c> changed).</summary>
    public IReadOnlyList<TableDifference> Differences { get; }
}
