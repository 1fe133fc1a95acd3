using NetlinkFence.Nftables;

namespace NetlinkFence.Policy;

/// <summary>How <see cref="LivePolicy.ReloadAsync"/> brought the table to the new policy.</summary>
public enum ReloadKind
{
    /// <summary>Nothing differed: no commit.</summary>
    Unchanged,

    /// <summary>Only allow-set elements changed: one transaction of element deletions and additions.</summary>
    Elements,

    /// <summary>
    /// Chains, rules or sets changed: one atomic replace of the table, whose allow sets already hold the open windows and
    /// the timed grants the new policy still allows (nothing that runs is cut by it).
    /// </summary>
    Replace,
}

/// <summary>What a reload did.</summary>
/// <param name="Kind">Element changes or a table replace.</param>
/// <param name="ElementsRemoved">Elements deleted (element reloads).</param>
/// <param name="ElementsAdded">Elements added (element reloads).</param>
/// <param name="ElementsRetimed">
/// Elements kept whose kernel timeout moved in place (element reloads): an open window whose entry's <c>window:</c> is
/// shorter now closes earlier; a followed name's addresses whose refresh was pending.
/// </param>
/// <param name="Commit">The commit's figures; null when nothing changed.</param>
public sealed record ReloadResult(ReloadKind Kind, int ElementsRemoved, int ElementsAdded, int ElementsRetimed, CommitResult? Commit);
