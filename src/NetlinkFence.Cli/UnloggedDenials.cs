using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>
/// The denied chains' counters at one moment, to tell how many denied packets between two moments came over
/// <c>log.rate</c>: those are in no log, so a reader of the NFLOG group (<c>learn</c>, <c>watch</c>) never saw them.
/// </summary>
/// <param name="TableHandle">The table's handle: a replaced table (a new handle) starts its counters again.</param>
/// <param name="Packets">Packets the denied chains dropped, and the audit rules accepted (<c>learn --audit</c>), summed.</param>
/// <param name="Logged">Of those, the packets logged; null when the table does not count them (an older version's).</param>
internal sealed record UnloggedDenials(ulong TableHandle, ulong Packets, ulong? Logged)
{
    /// <summary>The counters of table inet <paramref name="table"/> now; null when there is no such table.</summary>
    public static async Task<UnloggedDenials?> ReadAsync(NftablesConnection nft, string table, CancellationToken cancellationToken)
    {
        if (await nft.ListTableAsync(NftFamily.Inet, table, cancellationToken) is not { } contents)
            return null;
        // Denied and dropped, or (learn --audit) denied and accepted by the audit rules: either way, logged or not.
        var chains = TableMetrics.DeniedOf(contents);
        var (audited, auditLogged) = TableMetrics.AuditedIn(contents);
        ulong? logged = auditLogged is not null && chains.All(c => c.Logged is not null)
            ? chains.Aggregate(auditLogged.Value, (sum, c) => sum + c.Logged!.Value) : null;
        return new UnloggedDenials(contents.Table.Handle, chains.Aggregate(audited, (sum, c) => sum + c.Packets), logged);
    }

    /// <summary>
    /// As <see cref="ReadAsync"/>, or null when the counters cannot be read now (a netlink failure, or
    /// <paramref name="cancellationToken"/> cancelled: callers bound the reading with a timeout). The counts are a
    /// courtesy beside what the caller does (watch prints, the daemon forwards), which goes on whatever happens here.
    /// </summary>
    public static async Task<UnloggedDenials?> TryReadAsync(NftablesConnection nft, string table, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadAsync(nft, table, cancellationToken);
        }
        catch (Exception e) when (e is OperationCanceledException or NetlinkFenceException)
        {
            return null;
        }
    }

    /// <summary>
    /// Denied packets between <paramref name="before"/> and <paramref name="after"/> that were not logged; null when
    /// that cannot be told (no table at either moment, a table replaced in between, counters an older version's).
    /// </summary>
    public static ulong? Between(UnloggedDenials? before, UnloggedDenials? after)
    {
        if (before?.Logged is not { } loggedBefore || after?.Logged is not { } loggedAfter || before.TableHandle != after.TableHandle
            || after.Packets < before.Packets || loggedAfter < loggedBefore)
            return null;
        ulong denied = after.Packets - before.Packets, logged = loggedAfter - loggedBefore;
        return denied > logged ? denied - logged : 0; // the two counters are read at one moment, not atomically: never below 0
    }
}
