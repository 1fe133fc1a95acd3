using NetlinkFence.Cli.Watch;
using NetlinkFence.Logging;
using NetlinkFence.Logging.Syslog;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// The daemon's denial pipeline when the policy has <c>log.remote</c>: the policy's NFLOG group, read in the
/// daemon's namespace, each record explained as <c>watch</c> explains it (by the policy running now, so a reload
/// that only changes entries is seen at once) and queued on a syslog-over-TLS forwarder. The same loop and sink as
/// <c>watch --forward</c>; losses (the socket's queue, the reader's buffer, the forwarder's queue) go to the log.
/// Denied packets over <c>log.rate</c> never reach the group: every <see cref="UnloggedReporter.Every"/> in which denials
/// came, the denied chains' counters say how many the kernel did not log, and the collector is told
/// (<c>UNLOGGED</c>), so its picture of a flood is not a calm one. A reader that fails or ends is opened again (after a
/// second, doubling to <see cref="ReopenAtMost"/>), and the denials the kernel logged while none was
/// bound, which nothing forwarded, are counted from the table's counters, logged and reported to the collector
/// (<c>LOST</c>, <c>where="unbound"</c>), as the reader's own losses are (<see cref="ForwardingSink.LostAsync"/>).
/// </summary>
internal sealed class DenialForwarding : IAsyncDisposable
{
    // The collector's own restarts are absorbed by the forwarder's queue; this buffer absorbs bursts between the
    // socket and the forwarder (Enqueue never blocks), and the kernel's sequence gaps count what was lost before it.
    private static readonly NflogReaderOptions ReaderOptions = new() { BufferCapacity = 50_000, DropWhenFull = false };
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);
    internal static readonly TimeSpan ReopenAtMost = TimeSpan.FromSeconds(30);

    private volatile NflogReader _reader;
    private readonly ForwardingSink _sink;
    private readonly IDenialSink _acrossReaders;
    private readonly UnloggedReporter? _unlogged;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Action<string> _log;
    private readonly string _policyPath;
    private readonly string? _netns;
    private readonly TimeSpan _reopenFirst;
    private volatile DenialExplainer _explainer;
    private volatile string _table;
    private readonly SyslogTlsForwarder _forwarder;
    // Losses of the readers before this one, and of the gaps between them (for the metrics: the counts add up across readers).
    private readonly Lock _healthGate = new();
    private ulong _lostInKernelBefore, _lostInReaderBefore, _lostUnbound, _readerRestarts;

    private DenialForwarding(RemoteLogSettings remote, ushort group, NflogReader reader, SyslogTlsForwarder forwarder, CompiledPolicy policy, string policyPath, string? netns,
        Action<string> log, TimeSpan reopenFirst, UnloggedReporter? unlogged)
    {
        Remote = remote;
        Group = group;
        _reader = reader;
        _forwarder = forwarder;
        _sink = new ForwardingSink(forwarder, Console.Error, DrainTimeout, reportLosses: true, unlogged);
        _acrossReaders = new SinkAcrossReaders(_sink);
        _unlogged = unlogged;
        _log = log;
        _policyPath = policyPath;
        _netns = netns;
        _reopenFirst = reopenFirst;
        _explainer = new DenialExplainer(policy, policyPath, netns);
        _table = policy.Table.Name;
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>
    /// Forwards what the reader delivers until the pipeline stops. The reader's stream never ends by itself, so an end
    /// or a failure (the socket's) is a fault: said, then the group is bound again, however long that takes; forwarding
    /// is evidence, and a daemon that silently stopped sending it would read as a quiet host.
    /// </summary>
    private async Task RunAsync(CancellationToken token)
    {
        var wait = _reopenFirst;
        while (true)
        {
            string why = "the NFLOG socket closed";
            long started = Environment.TickCount64;
            try
            {
                await WatchVerb.RunAsync(_reader.ReadAsync(token), () => (_reader.LostInKernel, _reader.DroppedSlowConsumer),
                    record => _explainer.Explain(record), [_acrossReaders], TextWriter.Null, limit: null, runFor: null, token);
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                why = e.Message;
            }
            token.ThrowIfCancellationRequested();
            // A reader that fails again soon is not bound again at once: the wait doubles until one lasts.
            wait = Environment.TickCount64 - started < ReopenAtMost.TotalMilliseconds ? wait : _reopenFirst;
            var ended = _reader;
            await ended.DisposeAsync();
            var (before, gapFrom) = (await ReadCountersAsync(token), DateTimeOffset.UtcNow); // the kernel logs on; from here until a reader is bound, nobody reads
            _log($"forward: reading denials stopped ({why}); binding NFLOG group {Group} again");
            (var bound, wait) = await ReopenAsync(wait, token);
            lock (_healthGate) // the ended reader's losses move into the totals as the new reader takes its place: the sums never step back
            {
                _lostInKernelBefore += (ulong)ended.LostInKernel;
                _lostInReaderBefore += (ulong)ended.DroppedSlowConsumer;
                _readerRestarts++;
                _reader = bound; // at once: a stop from here on closes it (a reader left open would keep the group from the next pipeline)
            }
            var unbound = LoggedBetween(before, await ReadCountersAsync(token));
            lock (_healthGate)
                _lostUnbound += unbound ?? 0;
            _forwarder.ReportLost(unbound ?? 0, DenialLoss.NoReader, gapFrom, DateTimeOffset.UtcNow); // the collector would read the gap as a calm
            string missed = unbound is { } count ? $"{count} denial(s) logged meanwhile were not forwarded" : "denials logged meanwhile were not forwarded (the table's counters cannot say how many)";
            _log($"forward: reading denials of NFLOG group {Group} again; {missed}");
        }
    }

    /// <summary>
    /// Binds the group again after <paramref name="wait"/>, waiting twice as long after each refusal (each new reason is
    /// logged once); returns the reader and the wait before the next attempt should this one fail soon.
    /// </summary>
    private async Task<(NflogReader Reader, TimeSpan NextWait)> ReopenAsync(TimeSpan wait, CancellationToken token)
    {
        string? failing = null;
        while (true)
        {
            await Task.Delay(wait, token);
            var next = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, ReopenAtMost.Ticks));
            try
            {
                return (await NflogReader.OpenAsync(Group, _netns, ReaderOptions, token), next);
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                if (failing != e.Message)
                    _log($"forward: cannot bind NFLOG group {Group} ({e.Message}); trying again, at most every {ReopenAtMost.TotalSeconds:0} s");
                failing = e.Message;
                wait = next;
            }
        }
    }

    /// <summary>The denied chains' counters now, or null when they cannot be read (the gap is then said without a count).</summary>
    private async Task<UnloggedDenials?> ReadCountersAsync(CancellationToken token)
    {
        try
        {
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = _netns }, token);
            return await UnloggedDenials.TryReadAsync(nft, _table, token);
        }
        catch (NetlinkFenceException)
        {
            return null;
        }
    }

    /// <summary>Packets the table logged between two readings; null when it cannot be told (see <see cref="UnloggedDenials.Between"/>).</summary>
    private static ulong? LoggedBetween(UnloggedDenials? before, UnloggedDenials? after) =>
        before?.Logged is { } from && after?.Logged is { } to && before.TableHandle == after.TableHandle && to >= from ? to - from : null;

    /// <summary>The forwarding sink as each reader's run sees it: one reader's end is not the pipeline's, so nothing is flushed or closed.</summary>
    private sealed class SinkAcrossReaders(IDenialSink sink) : IDenialSink
    {
        public ValueTask WriteAsync(DenialRecord record, DenialExplanation? explanation, CancellationToken cancellationToken) =>
            sink.WriteAsync(record, explanation, cancellationToken);

        public ValueTask LostAsync(long lostInKernel, long droppedSlowConsumer, CancellationToken cancellationToken) =>
            sink.LostAsync(lostInKernel, droppedSlowConsumer, cancellationToken);

        public ValueTask CompleteAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>The reader bound now (tests end it to see the pipeline bind again).</summary>
    internal NflogReader Reader => _reader;

    /// <summary>The forwarder's and the readers' counts now (the daemon's metrics file).</summary>
    public ForwardingHealth Health
    {
        get
        {
            var status = _forwarder.Status;
            lock (_healthGate)
                return new ForwardingHealth(_forwarder.Options.Endpoint, Group, status.Connected, status.Pending, status.Sent, status.Dropped,
                    _lostInKernelBefore + (ulong)_reader.LostInKernel, _lostInReaderBefore + (ulong)_reader.DroppedSlowConsumer, _lostUnbound, _readerRestarts)
                {
                    HeartbeatSeconds = Remote.Heartbeat?.TotalSeconds,
                    Fallbacks = Remote.Fallbacks.Select(RemoteLogSettings.FormatEndpoint).ToArray(),
                    ConnectedTo = status.Collector,
                    FailbackSeconds = Remote.Fallbacks.Count == 0 ? null : _forwarder.Options.FailbackAfter.TotalSeconds,
                    CollectorCertificateExpires = status.CollectorCertificateExpires,
                    ClientCertificateExpires = status.ClientCertificateExpires,
                };
        }
    }

    /// <summary>The collector this pipeline sends to.</summary>
    public RemoteLogSettings Remote { get; }

    /// <summary>The NFLOG group it reads.</summary>
    public ushort Group { get; }

    /// <summary>
    /// Starts forwarding for <paramref name="policy"/>, or returns null when it has no <c>log.remote</c>. A reader that
    /// fails is bound again after <paramref name="reopenFirst"/> (a second by default; tests take longer to act in the gap).
    /// </summary>
    public static async Task<DenialForwarding?> StartAsync(CompiledPolicy policy, string policyPath, string? netns, Action<string> log, CancellationToken cancellationToken,
        TimeSpan? reopenFirst = null, Func<CancellationToken, Task<IReadOnlyList<KeyValuePair<string, string>>>>? heartbeatState = null)
    {
        if (policy.Source.Policy.Log.Remote is not { } remote)
            return null;
        ushort group = policy.Source.Policy.Log.NflogGroup;
        var options = SyslogTlsOptions.FromPolicy(remote) with
        {
            // From the namespace the policy guards: the forwarder is subject to the policy it reports for.
            NetworkNamespace = netns,
            Log = message => log($"forward: {message}"),
            HeartbeatState = heartbeatState,
        };
        var forwarder = await SyslogTlsForwarder.StartAsync(options, cancellationToken);
        NflogReader? reader = null;
        try
        {
            reader = await NflogReader.OpenAsync(group, netns, ReaderOptions, cancellationToken);
            DenialForwarding? started = null; // the reporter reads the table a reload may have renamed
            var unlogged = await UnloggedReporter.StartAsync(forwarder, netns, () => started?._table ?? policy.Table.Name, message => log($"forward: {message}"),
                cancellationToken);
            string fallbacks = remote.Fallbacks.Count == 0 ? "" : $", then {string.Join(", then ", remote.Fallbacks.Select(RemoteLogSettings.FormatEndpoint))} while it cannot be reached";
            log($"forward: denials of NFLOG group {group} go to {options.Endpoint}{fallbacks} (syslog over TLS, queue {options.QueueCapacity}{(options.Heartbeat is { } every ? $", a heartbeat every {WindowDuration.Format(every)}" : "")})");
            return started = new DenialForwarding(remote, group, reader, forwarder, policy, policyPath, netns, log, reopenFirst ?? TimeSpan.FromSeconds(1), unlogged);
        }
        catch
        {
            if (reader is not null)
                await reader.DisposeAsync();
            await forwarder.DisposeAsync();
            throw;
        }
    }

    /// <summary>Whether <paramref name="next"/> forwards elsewhere or otherwise (another collector, CA, client certificate, queue, heartbeat or group): then the pipeline restarts.</summary>
    public static bool Differs(DenialForwarding? running, CompiledPolicy next)
    {
        var log = next.Source.Policy.Log;
        if (running is null || log.Remote is not { } remote)
            return running is not null || log.Remote is not null;
        return running.Group != log.NflogGroup || !running.Remote.Equals(remote); // every setting but where it is written
    }

    /// <summary>
    /// Tells the collector now of the denials over <c>log.rate</c> since the last report: called before a reload's
    /// commit, which may replace the table and with it the counters that hold the count.
    /// </summary>
    public Task ReportUnloggedNowAsync(CancellationToken cancellationToken) => _unlogged?.ReportNowAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>Ships a window log record (<see cref="WindowRecords"/>) to the collector, in order with the denials.</summary>
    public void ReportWindow(string verb, string entry, uint uid, string detail) => _forwarder.ReportWindow(verb, entry, uid, _table, detail);

    /// <summary>Explains the next denials with <paramref name="policy"/> (a reload that keeps the collector and the group).</summary>
    public void Explain(CompiledPolicy policy)
    {
        _explainer = new DenialExplainer(policy, _policyPath, _netns);
        _table = policy.Table.Name;
    }

    /// <summary>Stops reading, gives the forwarder a few seconds to send what is queued (what is not is logged), closes both.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        await _sink.CompleteAsync(CancellationToken.None); // the last count over log.rate, and what is queued is sent, within the drain timeout
        await _sink.DisposeAsync();
        await _reader.DisposeAsync();
        _stop.Dispose();
    }
}
