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

    /// <summary>
    /// When the live table was written by another build than the one comparing (its comment names the build, see
    /// <see cref="PolicyCompiler.TableComment"/>; null means none): said beside differences, which may then be how the
    /// builds compile the same policy, not a change.
    /// </summary>
    public static string? OtherBuild(CompiledPolicy compiled, TableContents? live) =>
        live is null || live.Table.Comment == compiled.Table.Comment ? null
        : live.Table.Comment is { } comment ? $"the table was applied by {comment} and this is {compiled.Table.Comment}: some differences may be how the two compile the same policy (CHANGELOG.md says what changed), not changes made to the table"
        : $"the table names no netlinkfence build (applied before builds named themselves in the table's comment, or made by another tool) and this is {compiled.Table.Comment}: some differences may be how the two compile the same policy, not changes made to the table";

    public static LiveComparison Of(CompiledPolicy compiled, TableContents? live)
    {
        var now = DateTimeOffset.UtcNow;
        var differences = TableDiff.CompareRunning(compiled, live, now, Rendering.Rule);
        var audit = live is null ? null : AuditMode.FromContents(live, now);
        return audit is null ? new(differences, null) : new(differences.Where(d => d.Subject != $"set {AuditMode.SetName}").ToList(), audit);
    }
}
