using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// Whether a live table is its policy, as <c>verify</c> judges it and <c>apply --if-changed</c> decides by: the running
/// policy's own kernel-timed elements (open windows, followed names' addresses) are not differences, and an audit
/// (<c>learn --audit</c>) is the table's state, reported apart, not drift.
/// </summary>
internal sealed record LiveComparison(IReadOnlyList<TableDifference> Differences, AuditState? Audit)
{
    public bool Matches => Differences.Count == 0;

    public static LiveComparison Of(CompiledPolicy compiled, TableContents? live)
    {
        var now = DateTimeOffset.UtcNow;
        var differences = TableDiff.CompareRunning(compiled, live, now, Rendering.Rule);
        var audit = live is null ? null : AuditMode.FromContents(live, now);
        return audit is null ? new(differences, null) : new(differences.Where(d => d.Subject != $"set {AuditMode.SetName}").ToList(), audit);
    }
}
