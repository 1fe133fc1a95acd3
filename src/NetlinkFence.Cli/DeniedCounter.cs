using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// One reading of the egress_denied chain: the packets its self-test counter saw (marked probes), the packets it
/// dropped in all, and the ruleset generation; or why there is none.
/// </summary>
internal sealed record DeniedReading(ulong? Probes, ulong Dropped, uint Generation, string? Problem);

/// <summary>What egress_denied counted between two readings: marked probe packets, and any other packets it dropped.</summary>
internal sealed record DeniedDelta(ulong Probes, ulong Others);

/// <summary>
/// Reads the live table's <c>egress_denied</c> chain: the counter of its first rule, which counts only packets
/// carrying <see cref="PolicyCompiler.SelfTestMark"/> (the probe sockets' SO_MARK), is the evidence that the policy
/// itself dropped a probe; the chain's other counters (everything it drops) are read too, only to say how much other
/// traffic was dropped meanwhile. Read before and after one probe at a time: a rise of the probe counter in between
/// is that probe's packets, whatever else the policy drops in the same moment.
/// </summary>
internal sealed class DeniedCounter(NftablesConnection? nft, string table)
{
    /// <summary>The current reading; never throws except when the caller cancels.</summary>
    public async Task<DeniedReading> ReadAsync(CancellationToken cancellationToken)
    {
        if (nft is null)
            return new DeniedReading(null, 0, 0, "not read (no nftables connection)");
        try
        {
            var live = await nft.ListTableAsync(NftFamily.Inet, table, cancellationToken);
            if (live is null)
                return new DeniedReading(null, 0, 0, $"not read (no table inet {table})");
            var rules = live.RulesOf(PolicyCompiler.EgressDeniedChain).ToList();
            var probes = rules.FirstOrDefault(CountsProbes);
            if (probes is null)
                return new DeniedReading(null, 0, live.Generation,
                    $"not read (chain {PolicyCompiler.EgressDeniedChain} of table inet {table} has no self-test counter 'meta mark 0x{PolicyCompiler.SelfTestMark:x8} counter'; apply the policy with this version)");
            ulong dropped = TableMetrics.DeniedIn(live, PolicyCompiler.EgressDeniedChain).Packets; // what stats reports, one definition
            return new DeniedReading(((CounterExpression)probes.Expressions[2]).Packets, dropped, live.Generation, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return new DeniedReading(null, 0, 0, $"not read ({e.Message})");
        }
    }

    /// <summary>What was counted between two readings, or null and why not (unreadable, or the ruleset changed meanwhile).</summary>
    public static (DeniedDelta? Delta, string? Problem) Between(DeniedReading before, DeniedReading after)
    {
        if (before.Problem is not null || after.Problem is not null)
            return (null, after.Problem ?? before.Problem);
        // Another commit in between may have re-created the chain (a reset counter) or changed what drops what.
        if (before.Generation != after.Generation)
            return (null, "not attributable (the ruleset changed during the probe)");
        ulong probes = after.Probes!.Value - before.Probes!.Value;
        ulong dropped = after.Dropped - before.Dropped;
        return (new DeniedDelta(probes, dropped > probes ? dropped - probes : 0), null);
    }

    /// <summary>Exactly <c>meta mark SelfTestMark counter</c> (no verdict), as the compiler writes it; the comment is not relied on.</summary>
    private static bool CountsProbes(Rule rule) =>
        rule.Expressions is [MetaExpression { Key: MetaKey.Mark, DestinationRegister: Registers.R1 }, CmpExpression { Op: CmpOp.Eq, SourceRegister: Registers.R1 } cmp, CounterExpression]
        && cmp.Data == DataValue.HostOrder32(PolicyCompiler.SelfTestMark);
}
