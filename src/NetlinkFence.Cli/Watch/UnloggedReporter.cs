using NetlinkFence.Logging.Syslog;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli.Watch;

/// <summary>
/// Tells a <c>log.remote</c> collector how many denied packets came over <c>log.rate</c>: they never reach the NFLOG
/// group, so no <c>DENIED</c> message stands for them, and without this a flood reads at the collector as a calm.
/// Every <see cref="Every"/> in which records came (packets over the rate come only beside logged ones; a quiet
/// interval's are counted with the next busy one), and once more when forwarding ends, it reads the denied chains'
/// counters (one listing of the table, skipped when quiet) and reports what the kernel did not log since the last
/// reading (<see cref="SyslogTlsForwarder.ReportUnlogged"/>). The daemon and <c>watch --forward</c> use it alike.
/// </summary>
internal sealed class UnloggedReporter : IAsyncDisposable
{
    /// <summary>How often a busy forwarder's counts are read (the daemon and <c>watch --forward</c>).</summary>
    internal static readonly TimeSpan Every = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan LastReadingTimeout = TimeSpan.FromSeconds(5);

    private readonly SyslogTlsForwarder _forwarder;
    private readonly NftablesConnection _nft;
    private readonly Func<string> _table;
    private readonly Action<string> _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly SemaphoreSlim _reading = new(1, 1); // the rounds and a reading asked for (before a reload's commit) share the last reading
    private UnloggedDenials? _last;
    private DateTimeOffset _since = DateTimeOffset.UtcNow;
    private string? _failing; // said once, and once more when a reading works again
    private int _finished, _disposed;

    private UnloggedReporter(SyslogTlsForwarder forwarder, NftablesConnection nft, Func<string> table, Action<string> log)
    {
        (_forwarder, _nft, _table, _log) = (forwarder, nft, table, log);
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>
    /// Starts reporting to <paramref name="forwarder"/>'s collector for the table <paramref name="table"/> names (asked
    /// at each reading: a reload may rename it) in <paramref name="netns"/>; null, and
    /// the reason logged, when the namespace's nf_tables cannot be reached: the denials themselves are still forwarded.
    /// Logs the reports and failures through <paramref name="log"/> (without a prefix). <paramref name="cancellationToken"/>
    /// cancels the connection's setup.
    /// </summary>
    public static async Task<UnloggedReporter?> StartAsync(SyslogTlsForwarder forwarder, string? netns, Func<string> table, Action<string> log,
        CancellationToken cancellationToken)
    {
        try
        {
            var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = netns }, cancellationToken);
            return new UnloggedReporter(forwarder, nft, table, log);
        }
        catch (NetlinkFenceException e)
        {
            log($"cannot count the denials over log.rate ({e.Message}); denials are still forwarded");
            return null;
        }
    }

    private async Task RunAsync(CancellationToken token)
    {
        ulong records = ulong.MaxValue; // the first round reads
        while (true)
        {
            if (Records() != records)
            {
                records = Records();
                if (!await ReportAsync(token))
                    records = ulong.MaxValue; // try again next round, busy or not
            }
            await Task.Delay(Every, token);
        }
    }

    /// <summary>
    /// Reads and reports now, in between the rounds: before a commit that replaces the table (a reload), whose new
    /// counters start again from zero, so what came over the rate until then is not lost with the old ones.
    /// </summary>
    public async Task ReportNowAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _finished) == 0)
            await ReportAsync(cancellationToken);
    }

    /// <summary>One reading, and a report of what came over the rate since the last; false when the counters could not be read.</summary>
    private async Task<bool> ReportAsync(CancellationToken token)
    {
        await _reading.WaitAsync(token);
        try
        {
            var now = await UnloggedDenials.ReadAsync(_nft, _table(), token);
            var at = DateTimeOffset.UtcNow;
            if (UnloggedDenials.Between(_last, now) is > 0 and var unlogged)
            {
                _forwarder.ReportUnlogged(unlogged, _since, at);
                _log($"{unlogged} denied packet(s) came over log.rate since {_since:HH:mm:ss} and are in no log; told {_forwarder.Options.Endpoint}");
            }
            (_last, _since) = (now, at);
            if (_failing is not null)
                _log("counting the denials over log.rate works again");
            _failing = null;
            return true;
        }
        catch (NetlinkFenceException e)
        {
            if (_failing != e.Message)
                _log($"cannot count the denials over log.rate ({e.Message}); trying again every {Every.TotalSeconds:0} s");
            _failing = e.Message;
            return false;
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <summary>The records handed to the forwarder so far (queued or dropped for a full queue).</summary>
    private ulong Records()
    {
        var status = _forwarder.Status;
        return status.Enqueued + status.Dropped;
    }

    /// <summary>
    /// Stops the rounds and reports what came over the rate since the last one (at most 5 s to read), so the
    /// forwarder's flush that follows sends it: a flood in the last seconds of a <c>watch --forward</c> is not lost.
    /// </summary>
    public async Task FinishAsync()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
            return;
        await StopLoopAsync();
        using var timeout = new CancellationTokenSource(LastReadingTimeout);
        try
        {
            await ReportAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _log($"the last count of the denials over log.rate took longer than {LastReadingTimeout.TotalSeconds:0} s; not reported");
        }
    }

    private async Task StopLoopAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops the rounds (without a last report: see <see cref="FinishAsync"/>) and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await StopLoopAsync();
        await _nft.DisposeAsync();
        _stop.Dispose();
        _reading.Dispose();
    }
}
