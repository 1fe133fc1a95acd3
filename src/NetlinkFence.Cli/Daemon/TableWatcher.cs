using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Monitoring;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// Watch mode: reads every nf_tables change in the namespace and, at the end of each commit (NFT_MSG_NEWGEN) that
/// touched the daemon's table from another socket than the daemon's own, hands the changes to <c>repair</c>.
/// A lost notification (receive queue overflow) may hide such a change: it is repaired as well, by comparison.
/// </summary>
internal sealed class TableWatcher
{
    private readonly NftablesMonitor _monitor;
    private readonly string _table;
    private readonly uint _ownPort;
    private readonly Func<IReadOnlyList<NftablesChange>, CancellationToken, Task> _repair;

    public TableWatcher(NftablesMonitor monitor, string table, uint ownPort, Func<IReadOnlyList<NftablesChange>, CancellationToken, Task> repair)
    {
        _monitor = monitor;
        _table = table;
        _ownPort = ownPort;
        _repair = repair;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var foreign = new List<NftablesChange>();
        await foreach (var change in _monitor.ReadChangesAsync(cancellationToken))
        {
            switch (change.Kind)
            {
                case NftablesChangeKind.Lost:
                    await _repair([change], cancellationToken);
                    foreign.Clear();
                    break;
                case NftablesChangeKind.Committed:
                    if (foreign.Count > 0)
                    {
                        await _repair(foreign.ToList(), cancellationToken);
                        foreign.Clear();
                    }
                    break;
                default:
                    if (change.PortId != _ownPort && change.Family == NftFamily.Inet && change.TableName == _table)
                        foreign.Add(change);
                    break;
            }
        }
    }
}
