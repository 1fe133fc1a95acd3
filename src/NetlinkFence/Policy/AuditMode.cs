using NetlinkFence.Nftables;

namespace NetlinkFence.Policy;

/// <summary>
/// Audit mode (<c>netlinkfence learn --audit</c>): for a bounded time, what the policy would deny is logged (NFLOG,
/// prefix <see cref="PolicyCompiler.AuditLogPrefix"/>) and accepted. It is one element-only transaction into the
/// compiled table's <see cref="SetName"/> set; the element carries a kernel timeout, so enforcement returns when it
/// expires even if the process that started the audit is killed: nothing has to run for the host to close again.
/// </summary>
public static class AuditMode
{
    /// <summary>The timeout set in the compiled table that switches audit mode on while it holds an element.</summary>
    public const string SetName = "audit_active";

    /// <summary>The longest audit: the kernel's element timeout is bounded, and an audit is meant to be short.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    // Keyed by meta nfproto: one element per family the chain sees (NFPROTO_IPV4, NFPROTO_IPV6).
    private static readonly byte[] Families = [2, 10];

    /// <summary>
    /// Starts (or extends, or shortens) audit mode in <paramref name="table"/> for <paramref name="duration"/>: one
    /// transaction adding the audit elements with that kernel timeout. Throws <see cref="InvalidOperationException"/>
    /// when the live table has no audit set (applied by an older netlinkfence: apply the policy again).
    /// </summary>
    public static async Task<AuditState> StartAsync(NftablesConnection nft, string table, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nft);
        if (duration <= TimeSpan.Zero || duration > MaxDuration)
            throw new ArgumentOutOfRangeException(nameof(duration), duration, $"an audit lasts more than 0 and at most {MaxDuration.TotalHours:0} hours");
        var set = await LiveSetAsync(nft, table, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"table inet {table} has no '{SetName}' set (it was applied by an older netlinkfence, or not at all): apply the policy again");
        // Destroy first, then add: a re-added element would keep its old expiry on kernels that do not update it.
        var elements = Families.Select(f => new SetElement(new DataValue([f])) { Timeout = duration }).ToList();
        var tx = new Transaction()
            .DestroyElements(set, elements.Select(e => e with { Timeout = null }).ToList(), "learn --audit")
            .AddElements(set, elements, "learn --audit");
        await nft.CommitAsync(tx, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new AuditState(table, duration, DateTimeOffset.UtcNow + duration);
    }

    /// <summary>Ends audit mode now (enforcement returns at once); does nothing when none is active.</summary>
    public static async Task StopAsync(NftablesConnection nft, string table, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nft);
        var set = await LiveSetAsync(nft, table, cancellationToken).ConfigureAwait(false);
        if (set is null)
            return;
        var elements = Families.Select(f => new SetElement(new DataValue([f]))).ToList();
        await nft.CommitAsync(new Transaction().DestroyElements(set, elements, "learn --audit ended"), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The audit state of the live table as the kernel reports it (the element's remaining expiration), or null when
    /// no audit is active (no table, no audit set, or no unexpired element). For <c>show</c> and <c>status</c>.
    /// </summary>
    public static async Task<AuditState?> ReadAsync(NftablesConnection nft, string table, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nft);
        var set = await LiveSetAsync(nft, table, cancellationToken).ConfigureAwait(false);
        if (set is null)
            return null;
        return FromElements(table, await nft.ListElementsAsync(set, cancellationToken).ConfigureAwait(false) ?? [], DateTimeOffset.UtcNow);
    }

    /// <summary>The audit state of a table listing (for callers that already read the whole table), or null.</summary>
    public static AuditState? FromContents(TableContents contents, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(contents);
        var set = contents.Sets.FirstOrDefault(s => s.Set.Name == SetName);
        return set is null ? null : FromElements(contents.Table.Name, set.Elements, now);
    }

    private static AuditState? FromElements(string table, IEnumerable<SetElement> elements, DateTimeOffset now)
    {
        // An element without an expiration would audit forever: report it as active with no end (never created by us).
        var live = elements.Where(e => e.Expiration is null || e.Expiration > TimeSpan.Zero).ToList();
        if (live.Count == 0)
            return null;
        var remaining = live.Any(e => e.Expiration is null) ? (TimeSpan?)null : live.Max(e => e.Expiration!.Value);
        return new AuditState(table, remaining, remaining is { } r ? now + r : null);
    }

    private static async Task<NftSet?> LiveSetAsync(NftablesConnection nft, string table, CancellationToken cancellationToken) =>
        await nft.GetSetAsync(NftFamily.Inet, table, SetName, cancellationToken).ConfigureAwait(false);
}

/// <summary>An active audit: what the policy would deny is being logged and ACCEPTED until <see cref="Ends"/>.</summary>
/// <param name="Table">The table in audit mode.</param>
/// <param name="Remaining">Time left as the kernel counts it; null only for an element without a timeout (not one netlinkfence adds).</param>
/// <param name="Ends">When the kernel ends it (local clock), or null with <paramref name="Remaining"/>.</param>
public sealed record AuditState(string Table, TimeSpan? Remaining, DateTimeOffset? Ends)
{
    /// <summary>A one-line banner for <c>show</c> and <c>status</c>.</summary>
    public string Banner => Remaining is { } r
        ? $"!!! AUDIT MODE: table inet {Table} ACCEPTS (and logs) what the policy denies, for {Format(r)} more (the kernel ends it at {Ends:u}) !!!"
        : $"!!! AUDIT MODE: table inet {Table} ACCEPTS (and logs) what the policy denies, WITHOUT a timeout (netlinkfence never starts one): applying the policy again ends it !!!";

    private static string Format(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m{span.Seconds:00}s" : span.TotalMinutes >= 1 ? $"{span.Minutes}m{span.Seconds:00}s" : $"{span.TotalSeconds:0.#}s";
}
