using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>One reading of the egress_denied counter: its packets and the ruleset generation, or why there is none.</summary>
internal sealed record DeniedReading(ulong? Packets, uint Generation, string? Problem);

/// <summary>
/// Reads the packets counted by the live table's <c>egress_denied</c> chain (its <c>counter drop</c>), the evidence
/// that the policy itself dropped a probe. Read before and after one probe at a time: a rise in between is that
/// probe's (or, unavoidably, another packet the policy dropped in the same moment).
/// </summary>
internal sealed class DeniedCounter(NftablesConnection? nft, string table)
{
    /// <summary>The current reading; never throws except when the caller cancels.</summary>
    public async Task<DeniedReading> ReadAsync(CancellationToken cancellationToken)
    {
        if (nft is null)
            return new DeniedReading(null, 0, "not read (no nftables connection)");
        try
        {
            var live = await nft.ListTableAsync(NftFamily.Inet, table, cancellationToken);
            if (live is null)
                return new DeniedReading(null, 0, $"not read (no table inet {table})");
            var counters = live.RulesOf(PolicyCompiler.EgressDeniedChain).SelectMany(r => r.Expressions).OfType<CounterExpression>().ToList();
            return counters.Count == 0
                ? new DeniedReading(null, live.Generation, $"not read (table inet {table} has no counter in chain {PolicyCompiler.EgressDeniedChain})")
                : new DeniedReading(counters.Aggregate(0UL, (sum, c) => sum + c.Packets), live.Generation, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return new DeniedReading(null, 0, $"not read ({e.Message})");
        }
    }

    /// <summary>Packets counted between two readings, or null and why not (unreadable, or the ruleset changed meanwhile).</summary>
    public static (ulong? Packets, string? Problem) Between(DeniedReading before, DeniedReading after)
    {
        if (before.Problem is not null || after.Problem is not null)
            return (null, after.Problem ?? before.Problem);
        // Another commit in between may have re-created the chain (a reset counter) or changed what drops what.
        if (before.Generation != after.Generation)
            return (null, "not attributable (the ruleset changed during the probe)");
        return (after.Packets - before.Packets, null);
    }
}
