using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli.Daemon;

/// <summary><c>run --prometheus FILE --prometheus-every 15s</c>: the file <see cref="MetricsWriter"/> keeps, and how often.</summary>
internal sealed record DaemonMetrics(string File, TimeSpan Every);

/// <summary>
/// <c>run --prometheus FILE</c>: the daemon writes what <c>stats --prometheus</c> writes, at start and then every
/// interval, so a host that runs the daemon (the unit, a DaemonSet) needs no cron job for node_exporter. It reads on a
/// connection of its own (reading does not need the owning socket) and between the daemon's changes, so a reload is
/// never seen half done. A failure never stops the daemon: it is logged once, and once more when a write lands again.
/// </summary>
internal sealed class MetricsWriter(string file, TimeSpan every, TargetNamespace target, Func<CompiledPolicy> running, SemaphoreSlim changes, Action<string> log)
{
    private string? _failing; // the last failure logged, until a write lands

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var nft = await target.ConnectAsync(cancellationToken);
        log($"metrics: writing {file} every {WindowDuration.Format(every)}");
        while (true)
        {
            await WriteOnceAsync(nft, cancellationToken);
            await Task.Delay(every, cancellationToken);
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
            PrometheusMetrics.Write(file, metrics);
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
