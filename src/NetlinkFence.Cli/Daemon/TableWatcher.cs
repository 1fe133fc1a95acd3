using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Monitoring;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// Watch mode: reads every nf_tables change in the namespace and, at the end of each commit (NFT_MSG_NEWGEN) that
/// touched the daemon's table from another socket than the daemon's own, hands the changes to <c>repair</c>.
/// A lost notification (receive queue overflow) may hide such a change: it is repaired as well, by comparison.
/// A repair that fails (<c>repair</c> returns false) is tried again, with no change in between, after 1 s, then twice
/// as long each time up to 30 s, until one lands: the next change may never come (a foreign table made with
/// owner|persist refuses the repair while its owner runs, and its owner's exit changes nothing the monitor sees), and
/// a foreign change must not stay for want of one.
/// </summary>
internal sealed class TableWatcher
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1), LongestRetry = TimeSpan.FromSeconds(30);

    private readonly NftablesMonitor _monitor;
    private readonly string _table;
    private readonly uint _ownPort;
    private readonly Func<IReadOnlyList<NftablesChange>, CancellationToken, Task<bool>> _repair;

    public TableWatcher(NftablesMonitor monitor, string table, uint ownPort, Func<IReadOnlyList<NftablesChange>, CancellationToken, Task<bool>> repair)
    {
        _monitor = monitor;
        _table = table;
        _ownPort = ownPort;
        _repair = repair;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var foreign = new List<NftablesChange>();
        bool owed = false; // the last repair failed: the table may still hold a foreign change
        var retryIn = FirstRetry;
        await using var changes = _monitor.ReadChangesAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        Task<bool>? next = null;
        while (true)
        {
            next ??= changes.MoveNextAsync().AsTask();
            if (owed && await Task.WhenAny(next, Task.Delay(retryIn, cancellationToken)) != next)
            {
                cancellationToken.ThrowIfCancellationRequested();
                owed = !await _repair([], cancellationToken);
                retryIn = owed ? TimeSpan.FromTicks(Math.Min(retryIn.Ticks * 2, LongestRetry.Ticks)) : FirstRetry;
                continue;
            }
            if (!await next)
                return;
            next = null;
            var change = changes.Current;
            switch (change.Kind)
            {
                case NftablesChangeKind.Lost:
                    owed = !await _repair([change], cancellationToken);
                    foreign.Clear();
                    break;
                case NftablesChangeKind.Committed:
                    if (foreign.Count > 0)
                    {
                        owed = !await _repair(foreign.ToList(), cancellationToken);
                        foreign.Clear();
                    }
                    break;
                default:
                    if (change.PortId != _ownPort && change.Family == NftFamily.Inet && change.TableName == _table)
                        foreign.Add(change);
                    break;
            }
            if (!owed)
                retryIn = FirstRetry;
        }
    }
}
