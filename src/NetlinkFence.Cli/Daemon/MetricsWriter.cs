using System.Threading.Channels;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli.Daemon;

/// <summary><c>run --prometheus FILE --prometheus-every 15s</c>: the file <see cref="MetricsWriter"/> keeps, and how often.</summary>
internal sealed record DaemonMetrics(string File, TimeSpan Every);

/// <summary>
/// <c>run --prometheus FILE</c>: the daemon writes what <c>stats --prometheus</c> writes (and, with <c>log.remote</c>,
/// how its denial forwarding is doing: <see cref="ForwardingHealth"/>), at start, every interval,
/// and as soon as it changed the table itself (a window opened or closed, a reload, an audit, a repair), so a host that
/// runs the daemon (the unit, a DaemonSet) needs no cron job for node_exporter and an alert on an open window does not
/// wait for the interval. It reads on a connection of its own (reading does not need the owning socket) and between
/// the daemon's changes, so a reload is never seen half done. A failure never stops the daemon: it is logged once,
/// and once more when a write lands again.
/// </summary>
internal sealed class MetricsWriter(string file, TimeSpan every, TargetNamespace target, Func<CompiledPolicy> running, Func<ForwardingHealth?> forwarding,
    SemaphoreSlim changes, Action<string> log)
{
    // At most one write pending: changes that come while one waits are all in the one file it writes.
    private readonly Channel<bool> _changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private string? _failing; // the last failure logged, until a write lands

    /// <summary>The daemon changed the table: the file is written again now, not at the next interval.</summary>
    public void Changed() => _changed.Writer.TryWrite(true);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var nft = await target.ConnectAsync(cancellationToken);
        log($"metrics: writing {file} every {WindowDuration.Format(every)} and after each change the daemon makes");
        Task<bool>? changed = null; // kept across intervals: one waiter, not one per interval
        while (true)
        {
            await WriteOnceAsync(nft, cancellationToken);
            using var interval = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            changed ??= _changed.Reader.WaitToReadAsync(cancellationToken).AsTask();
            await Task.WhenAny(changed, Task.Delay(every, interval.Token));
            interval.Cancel(); // the timer, when a change came first
            cancellationToken.ThrowIfCancellationRequested();
            if (changed.IsCompleted)
            {
                _changed.Reader.TryRead(out _);
                changed = null;
            }
        }
    }

    private async Task WriteOnceAsync(NftablesConnection nft, CancellationToken cancellationToken)
    {
        try
        {
            TableMetrics metrics;
            await changes.WaitAsync(cancellationToken);
            try
            {
                metrics = await TableMetrics.ReadAsync(nft, running(), cancellationToken);
            }
            finally
            {
                changes.Release();
            }
            PrometheusMetrics.Write(file, metrics, forwarding());
            if (_failing is not null)
                log($"metrics: {file} written again");
            _failing = null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NetlinkFenceException or MissingTableException)
        {
            if (_failing != e.Message)
                log($"metrics: cannot write {file}: {e.Message.TrimEnd('.')}; trying again every {WindowDuration.Format(every)}");
            _failing = e.Message;
        }
    }
}
