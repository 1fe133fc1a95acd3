using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>What <c>stats</c> (and the daemon's <c>--prometheus</c> file) reports of one table, as the kernel holds it now.</summary>
/// <param name="Table">The inet table.</param>
/// <param name="Present">False when the table is not in the kernel: nothing of netlinkfence filters the namespace.</param>
/// <param name="MatchesPolicy">Whether the table is the policy's as <c>verify</c> judges it (<see cref="LiveComparison"/>); null when not compared.</param>
/// <param name="Entries">Per allow entry, its elements' counters summed.</param>
/// <param name="Denied">Per denied chain, what its final drop counted.</param>
/// <param name="Windows">Every window entry, open or closed.</param>
/// <param name="Audit">The active audit (the table accepts what the policy denies); null while it enforces.</param>
internal sealed record TableMetrics(
    string Table,
    bool Present,
    bool? MatchesPolicy,
    IReadOnlyList<EntryCounters> Entries,
    IReadOnlyList<(string Chain, ulong Packets, ulong Bytes)> Denied,
    IReadOnlyList<LiveWindow> Windows,
    AuditState? Audit)
{
    /// <summary>
    /// The kernel holds the table with the owner flag (a daemon's, or an embedding agent's socket): it refuses every other
    /// socket's change and <c>nft flush ruleset</c> skips it. False: any root process may change or delete it.
    /// </summary>
    public bool Owned { get; init; }

    private static readonly string[] DeniedChains = ["ingress_denied", PolicyCompiler.EgressDeniedChain];

    /// <summary>A table that is not there.</summary>
    public static TableMetrics Missing(string table) => new(table, Present: false, MatchesPolicy: null, [], [], [], Audit: null);

    /// <summary>Reads the counters, the windows and the audit state of the table <paramref name="live"/> is attached to, from one listing.</summary>
    public static async Task<TableMetrics> ReadAsync(NftablesConnection nft, LivePolicy live, CancellationToken cancellationToken)
    {
        if (await nft.ListTableAsync(NftFamily.Inet, live.Table, cancellationToken) is not { } contents)
            throw new MissingTableException($"table inet {live.Table} was removed while its counters were read");
        return Of(live, contents);
    }

    /// <summary>Everything of <paramref name="contents"/>, a listing of the table <paramref name="live"/> is attached to: all of it from the same instant.</summary>
    private static TableMetrics Of(LivePolicy live, TableContents contents) =>
        new(live.Table, Present: true, MatchesPolicy: null, live.ReadCounters(contents), DeniedOf(contents), live.Windows(contents),
            AuditMode.FromContents(contents, DateTimeOffset.UtcNow)) { Owned = IsOwned(contents) };

    /// <summary>
    /// For monitoring, which must see every state, not only the good one: a missing table, a table that is not the
    /// policy's (drift: the denied counters and the audit state, no entries or windows, which only the policy's own
    /// table has), or the policy's table with everything.
    /// </summary>
    public static async Task<TableMetrics> ReadAsync(NftablesConnection nft, CompiledPolicy policy, CancellationToken cancellationToken)
    {
        string table = policy.Table.Name;
        if (await nft.ListTableAsync(NftFamily.Inet, table, cancellationToken) is not { } contents)
            return Missing(table);
        var comparison = LiveComparison.Of(policy, contents);
        if (!comparison.Matches)
            return new TableMetrics(table, Present: true, MatchesPolicy: false, [], DeniedOf(contents), [], comparison.Audit) { Owned = IsOwned(contents) };
        // One listing for all of it (at 10,000 entries each listing is tens of ms, and the daemon reads under its change lock).
        return Of(LivePolicy.Attach(nft, policy.Source, contents), contents) with { MatchesPolicy = true };
    }

    private static bool IsOwned(TableContents contents) => (contents.Table.Flags & Nftables.Table.OwnerFlag) != 0;

    private static List<(string, ulong, ulong)> DeniedOf(TableContents contents) => DeniedChains.Select(chain => Dropped(contents, chain)).ToList();

    /// <summary>
    /// What a denied chain dropped: its last rule's counter (<c>counter drop</c>). Earlier counters in the chain (the
    /// self-test probes' mark counter) count packets that go on to that drop, so they are not added again.
    /// </summary>
    private static (string, ulong, ulong) Dropped(TableContents contents, string chain) =>
        contents.RulesOf(chain).LastOrDefault()?.Expressions.OfType<CounterExpression>().LastOrDefault() is { } counter
            ? (chain, counter.Packets, counter.Bytes)
            : (chain, 0, 0);
}
