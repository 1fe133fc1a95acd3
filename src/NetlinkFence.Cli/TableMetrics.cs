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
    IReadOnlyList<DeniedCount> Denied,
    IReadOnlyList<LiveWindow> Windows,
    AuditState? Audit)
{
    /// <summary>The table as the listing read it (its flags and comment); null when it is not there.</summary>
    public Nftables.Table? Live { get; init; }

    /// <summary>
    /// The kernel holds the table with the owner flag (a daemon's, or an embedding agent's socket): it refuses every other
    /// socket's change and <c>nft flush ruleset</c> skips it. False: any root process may change or delete it.
    /// </summary>
    public bool Owned => Live?.IsOwned == true;

    /// <summary>The build that applied the table (its comment, <see cref="PolicyCompiler.TableComment"/>); null when it names none.</summary>
    public string? AppliedBy => Live?.Comment;

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
            AuditMode.FromContents(contents, DateTimeOffset.UtcNow)) { Live = contents.Table };

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
            return new TableMetrics(table, Present: true, MatchesPolicy: false, [], DeniedOf(contents), [], comparison.Audit) { Live = contents.Table };
        // One listing for all of it (at 10,000 entries each listing is tens of ms, and the daemon reads under its change
        // lock), and no attach: the counters and windows need neither the policy compiled again nor every allow set modelled.
        return new TableMetrics(table, Present: true, MatchesPolicy: true, LivePolicy.ReadCounters(policy.Source, contents), DeniedOf(contents),
            LivePolicy.Windows(policy.Source, contents), comparison.Audit) { Live = contents.Table };
    }

    internal static List<DeniedCount> DeniedOf(TableContents contents) => DeniedChains.Select(chain => DeniedIn(contents, chain)).ToList();

    /// <summary>
    /// What a denied chain dropped: its last rule's counter (<c>counter drop</c>, or the reject). Earlier counters in
    /// the chain (the self-test probes' mark counter, the log rule's) count packets that go on to that drop, and the
    /// audit rules' count packets accepted, so none is added. How many were logged: the log rule's counter, which
    /// follows its rate limit.
    /// </summary>
    public static DeniedCount DeniedIn(TableContents contents, string chain)
    {
        var rules = contents.RulesOf(chain).ToList();
        var (packets, bytes) = rules.LastOrDefault()?.Expressions.OfType<CounterExpression>().LastOrDefault() is { } counter
            ? (counter.Packets, counter.Bytes)
            : (0UL, 0UL);
        var log = rules.FirstOrDefault(r => r.Expressions.OfType<LogExpression>().Any() && !IsAudit(r)); // not audit mode's log
        return new DeniedCount(chain, packets, bytes, LoggedBy(log, packets));
    }

    /// <summary>
    /// Audit mode's two rules in egress_denied (<c>learn --audit</c>): what they accepted (the accept rule's counter) and,
    /// of that, what they logged. Zero and zero when the chain has no audit rules.
    /// </summary>
    public static (ulong Accepted, ulong? Logged) AuditedIn(TableContents contents)
    {
        var rules = contents.RulesOf(PolicyCompiler.EgressDeniedChain).Where(IsAudit).ToList();
        ulong accepted = rules.FirstOrDefault(r => !r.Expressions.OfType<LogExpression>().Any())?.Expressions.OfType<CounterExpression>().FirstOrDefault()?.Packets ?? 0;
        return (accepted, LoggedBy(rules.FirstOrDefault(r => r.Expressions.OfType<LogExpression>().Any()), accepted));
    }

    private static bool IsAudit(Rule rule) => rule.Expressions.OfType<LookupExpression>().Any(l => l.SetName == AuditMode.SetName);

    /// <summary>
    /// How many of <paramref name="packets"/> the log rule <paramref name="log"/> logged: its counter (after its rate
    /// limit); all of them without a limit; none without a log rule; null for a limit without the counter (a table an
    /// older version applied).
    /// </summary>
    private static ulong? LoggedBy(Rule? log, ulong packets) =>
        log is null ? 0
        : log.Expressions.OfType<CounterExpression>().FirstOrDefault() is { } counter ? counter.Packets
        : log.Expressions.OfType<LimitExpression>().Any() ? null
        : packets;
}

/// <summary>What one denied chain counted.</summary>
/// <param name="Chain">ingress_denied or egress_denied.</param>
/// <param name="Packets">Packets it dropped (or rejected), logged or not.</param>
/// <param name="Bytes">Their bytes.</param>
/// <param name="Logged">Packets it logged (to the kernel log and NFLOG): fewer than <paramref name="Packets"/> when more
/// came than <c>log.rate</c> lets through; null when the table cannot say (applied by a version without the log counter).</param>
internal sealed record DeniedCount(string Chain, ulong Packets, ulong Bytes, ulong? Logged);
