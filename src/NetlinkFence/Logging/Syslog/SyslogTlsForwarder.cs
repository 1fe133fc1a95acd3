using System.Security.Cryptography;

namespace NetlinkFence.Logging.Syslog;

/// <summary>
/// Ships denial records to a syslog-over-TLS collector: RFC 5424 messages (structured data <c>denial@PEN</c> with
/// the record's fields) in RFC 5425 octet-counted frames over TLS 1.2 or 1.3, the collector's certificate checked
/// against the configured CA only. Records wait in a bounded queue while the collector is unreachable; beyond its
/// capacity they are dropped, counted, and reported to the collector (<c>DROPPED</c>, <c>dropped@PEN count="N"</c>)
/// once it is reachable again. Reconnects with exponential backoff.
/// </summary>
/// <remarks>
/// Delivery is at least once. A message counts as sent when it is written and flushed; TCP syslog has no
/// application acknowledgement, so messages written on a connection stay in a resend buffer for
/// <see cref="SyslogTlsOptions.ResendWindow"/>; when the connection breaks (the collector closes it, resets it,
/// or the kernel aborts it for unacknowledged data) they are written again, first, on the next connection.
/// A collector may therefore receive a message twice: every message carries <c>run</c> (random per forwarder)
/// and <c>seq</c> (increasing), identical in a resend, so duplicates are recognised by (<c>host</c>, <c>run</c>, <c>seq</c>).
/// <code>
/// await using var forwarder = await SyslogTlsForwarder.StartAsync(new SyslogTlsOptions { Host = "192.168.1.20", CaFile = "/etc/netlinkfence/ca.pem" });
/// await foreach (var denial in reader.ReadAsync(cancellationToken))
///     forwarder.Enqueue(denial);
/// </code>
/// </remarks>
public sealed class SyslogTlsForwarder : IAsyncDisposable
{
    private const int MaxBatchMessages = 512;
    private const int MaxBatchBytes = 256 * 1024;

    private sealed class Item(DenialRecord? record, DenialContext? context, byte[]? frame)
    {
        public DenialRecord? Record { get; } = record;
        public DenialContext? Context { get; } = context;
        public byte[]? Frame { get; set; } = frame;

        /// <summary>Formats a message that is not a denial, given its sequence number (taken when it is written first).</summary>
        public Func<ulong, byte[]>? Format { get; init; }
        public long WrittenAt { get; set; }

        /// <summary>A heartbeat names the collector it was written to: never sent again as it is (<see cref="Requeue"/>).</summary>
        public bool IsHeartbeat { get; init; }
    }

    private readonly SyslogTlsOptions _options;
    private readonly SyslogTlsOptions[] _collectors; // the first collector, then its fallbacks, in order
    private int _collector; // the one connected to (an index into _collectors)
    private readonly Rfc5424Formatter _formatter;
    private readonly object _gate = new();
    private readonly LinkedList<Item> _pending = new();
    private readonly Queue<Item> _written = new();
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _wake = NewSignal();
    private TaskCompletionSource _idle = NewSignal();
    private Task _loop = Task.CompletedTask;
    private Task _beating = Task.CompletedTask;
    private bool _heartbeatDue; // one at most: heartbeats missed while the collector is away are one when it is back
    private bool _firstHeartbeatTaken; // until then (a heartbeat's reading, at most HeartbeatStateTimeout) nothing else is sent
    private IReadOnlyList<KeyValuePair<string, string>>? _heartbeatState; // what the due heartbeat vouches for
    private static readonly TimeSpan HeartbeatStateTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CloseConfirmationTimeout = TimeSpan.FromSeconds(5); // for a collector's own close after close_notify
    private bool _inFlight;
    private ulong _sequence;
    private ulong _enqueued, _sent, _resent, _dropped, _droppedUnreported;
    private DateTimeOffset _firstDrop, _lastDrop;
    private CountToReport _unlogged;
    private readonly CountToReport[] _lost = new CountToReport[3]; // by DenialLoss
    private int _connections;
    private bool _connected;
    private DateTimeOffset? _collectorExpires, _clientExpires;
    private readonly HashSet<(string Which, DateTimeOffset Expires)> _expiryWarned = [];
    // A certificate that expires within this is said at each connection that uses it (once per certificate): forwarding stops the day it expires.
    private static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(14);
    private string? _lastError;
    private int _disposed;

    private SyslogTlsForwarder(SyslogTlsOptions options)
    {
        _options = options;
        _collectors = CollectorsOf(options);
        _formatter = new Rfc5424Formatter(options, NewRun());
    }

    /// <summary>
    /// Checks the options, reads the CA file (and the client certificate) once so a mistake is reported now
    /// (<see cref="SyslogTlsException"/> with the path and errno), and starts forwarding in the background. It does
    /// not wait for the collector: records queue until it is reachable.
    /// </summary>
    public static Task<SyslogTlsForwarder> StartAsync(SyslogTlsOptions options, CancellationToken cancellationToken = default)
    {
        Validate(options);
        cancellationToken.ThrowIfCancellationRequested();
        var forwarder = new SyslogTlsForwarder(options);
        forwarder._loop = Task.Run(() => forwarder.RunAsync(forwarder._stop.Token), CancellationToken.None);
        if (options.Heartbeat is { } every)
            forwarder._beating = Task.Run(() => forwarder.BeatAsync(every, forwarder._stop.Token), CancellationToken.None);
        return Task.FromResult(forwarder);
    }

    /// <summary>Checks the options and reads the CA file and the client certificate once, so a mistake is reported before any connection.</summary>
    private static void Validate(SyslogTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Host);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Port, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.QueueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.ResendWindow, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.MinReconnectDelay, TimeSpan.Zero);
        if (options.Heartbeat is { } heartbeat)
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(heartbeat, TimeSpan.Zero, nameof(options.Heartbeat));
        ArgumentNullException.ThrowIfNull(options.Fallbacks, nameof(options.Fallbacks));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.FailbackAfter, TimeSpan.Zero, nameof(options.FailbackAfter));
        foreach (var fallback in options.Fallbacks)
        {
            if (fallback is null || string.IsNullOrWhiteSpace(fallback.Host) || fallback.Port is < 1 or > 65535)
                throw new ArgumentException($"a fallback collector needs a host and a port from 1 to 65535 ({fallback?.Host}:{fallback?.Port})", nameof(options));
        }
        if ((options.ClientCertificateFile is null) != (options.ClientKeyFile is null))
            throw new ArgumentException("a client certificate needs its key, and a key its certificate", nameof(options));
        CollectorTrust.Load(options.CaFile);
        if (options.ClientCertificateFile is { } certificate)
            CollectorTrust.LoadClientCertificate(certificate, options.ClientKeyFile!).Dispose();
    }

    /// <summary>
    /// Checks each collector of <paramref name="options"/>, the first then every fallback (all at once, so one that does
    /// not answer costs its timeout once; the results in that order), without a forwarder: a verified TLS connection (the same CA, client certificate, namespace and timeout as
    /// forwarding), one test message (msgid <c>TEST</c>, severity notice, <c>test@PEN run seq host collector</c>),
    /// then close_notify and up to 5 s for the collector to close its side, which confirms it read the message.
    /// A collector that fails is reported, never thrown; a CA or client certificate that cannot be read throws
    /// <see cref="SyslogTlsException"/>, as <see cref="StartAsync"/> does.
    /// </summary>
    public static async Task<IReadOnlyList<CollectorCheck>> CheckCollectorsAsync(SyslogTlsOptions options, CancellationToken cancellationToken = default)
    {
        Validate(options);
        var formatter = new Rfc5424Formatter(options, NewRun());
        return await Task.WhenAll(CollectorsOf(options).Select((collector, index) =>
            CheckAsync(formatter, collector, index > 0, (ulong)index + 1, cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>A message's <c>run</c>: random per forwarder (or check), so (host, run, seq) names one message.</summary>
    private static string NewRun() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    /// <summary>The options of each collector to connect to: the first (<paramref name="options"/>), then every fallback, in order.</summary>
    private static SyslogTlsOptions[] CollectorsOf(SyslogTlsOptions options) =>
        [options, .. options.Fallbacks.Select(f => options with { Host = f.Host, Port = f.Port, Fallbacks = [] })];

    private static async Task<CollectorCheck> CheckAsync(Rfc5424Formatter formatter, SyslogTlsOptions collector, bool fallback, ulong sequence, CancellationToken cancellationToken)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        CollectorConnection connection;
        try
        {
            connection = await CollectorConnection.OpenAsync(collector, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsConnectFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            return new CollectorCheck { Collector = collector.Endpoint, IsFallback = fallback, Error = e.Message, Took = System.Diagnostics.Stopwatch.GetElapsedTime(started) };
        }
        await using (connection.ConfigureAwait(false))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var watch = connection.WatchAsync(collector.Endpoint, stop.Token);
            string? error = null;
            bool confirmed = false;
            try
            {
                await connection.WriteAsync(formatter.Test(collector.Endpoint, sequence), cancellationToken).ConfigureAwait(false);
                confirmed = await CloseConfirmedAsync(connection, watch, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                error = $"the connection to {collector.Endpoint} broke while the test message was written: {e.Message}";
            }
            finally
            {
                stop.Cancel();
                await watch.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
            cancellationToken.ThrowIfCancellationRequested();
            return new CollectorCheck
            {
                Collector = collector.Endpoint,
                IsFallback = fallback,
                Reached = error is null,
                Confirmed = error is null && confirmed,
                CollectorCertificateExpires = connection.CollectorCertificateExpires,
                ClientCertificateExpires = connection.ClientCertificateExpires,
                Error = error,
                Took = System.Diagnostics.Stopwatch.GetElapsedTime(started),
            };
        }
    }

    /// <summary>The options it was started with.</summary>
    public SyslogTlsOptions Options => _options;

    /// <summary>
    /// Queues one record (with what the policy says about it, when known). False when the queue is full: the
    /// record is dropped and counted, and the count is reported to the collector. Never blocks.
    /// </summary>
    public bool Enqueue(DenialRecord record, DenialContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            if (_pending.Count >= _options.QueueCapacity)
            {
                var now = DateTimeOffset.UtcNow;
                if (_droppedUnreported++ == 0)
                    _firstDrop = now;
                _lastDrop = now;
                _dropped++;
                return false;
            }
            _enqueued++;
            _pending.AddLast(new Item(record, context, null));
            Wake();
            return true;
        }
    }

    /// <summary>
    /// Sends the collector a change to an update window (severity notice, <c>WINDOW</c>, <c>window@PEN verb="open"
    /// entry="mirror" uid="0" table="netlinkfence"</c>, the text <c>open mirror (uid 0): for 30m, ...</c>): the line the
    /// window log records, shipped where the denials go, so that when an update window let traffic through is seen in
    /// one place for a fleet. Queued in order with the denials; not held to the queue's capacity (a window changes a
    /// few times a day, and such a change must not be lost to a flood of denials). Never blocks.
    /// </summary>
    /// <param name="verb">What happened: open, close, expire, reopen, shorten, permanent.</param>
    /// <param name="entry">The window entry.</param>
    /// <param name="uid">The uid that asked (the daemon's own for a change nobody asked for, such as an expiry).</param>
    /// <param name="table">The name of the table (family inet).</param>
    /// <param name="detail">What the window log says of it.</param>
    public void ReportWindow(string verb, string entry, uint uid, string table, string detail)
    {
        ArgumentException.ThrowIfNullOrEmpty(verb);
        ArgumentException.ThrowIfNullOrEmpty(entry);
        ArgumentException.ThrowIfNullOrEmpty(table);
        ArgumentNullException.ThrowIfNull(detail);
        var time = DateTimeOffset.UtcNow;
        lock (_gate)
        {
            _pending.AddLast(new Item(null, null, null) { Format = sequence => _formatter.Window(verb, entry, uid, table, detail, time, sequence) });
            Wake();
        }
    }

    /// <summary>
    /// Tells the collector that <paramref name="count"/> denied packets between <paramref name="from"/> and
    /// <paramref name="to"/> came over the policy's <c>log.rate</c>: the kernel logged none of them, so no
    /// <c>DENIED</c> message stands for them (<c>UNLOGGED</c>, <c>unlogged@PEN count="N"</c>). Reports not yet
    /// written add up into one. The count comes from the denied chains' counters (the CLI's daemon reads them).
    /// </summary>
    public void ReportUnlogged(ulong count, DateTimeOffset from, DateTimeOffset to)
    {
        if (count == 0)
            return;
        lock (_gate)
        {
            _unlogged.Add(count, from, to);
            Wake();
        }
    }

    /// <summary>
    /// Tells the collector that <paramref name="count"/> denials the kernel logged between <paramref name="from"/> and
    /// <paramref name="to"/> were lost before this forwarder could queue them, and where (<c>LOST</c>,
    /// <c>lost@PEN count="N" where="kernel|reader|unbound"</c>): no <c>DENIED</c> message stands for them. Reports of
    /// one kind not yet written add up into one. The reader's counters say how many (<see cref="NflogReader.LostInKernel"/>,
    /// <see cref="NflogReader.DroppedSlowConsumer"/>); for a gap between two readers, the table's log counters.
    /// </summary>
    public void ReportLost(ulong count, DenialLoss where, DateTimeOffset from, DateTimeOffset to)
    {
        if (!Enum.IsDefined(where))
            throw new ArgumentOutOfRangeException(nameof(where), where, "not a kind of loss");
        if (count == 0)
            return;
        lock (_gate)
        {
            _lost[(int)where].Add(count, from, to);
            Wake();
        }
    }

    /// <summary>Queues every record of <paramref name="records"/> until it ends or <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task ForwardAsync(IAsyncEnumerable<DenialRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        await foreach (var record in records.WithCancellation(cancellationToken).ConfigureAwait(false))
            Enqueue(record);
    }

    /// <summary>Waits until every queued record (and any drop report) has been written and flushed to the collector.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task idle;
            lock (_gate)
            {
                if (_pending.Count == 0 && !_inFlight && _droppedUnreported == 0 && _unlogged.Count == 0 && !_lost.Any(l => l.Count > 0))
                    return;
                idle = _idle.Task;
            }
            await idle.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The counters now.</summary>
    public SyslogForwarderStatus Status
    {
        get
        {
            lock (_gate)
            {
                return new SyslogForwarderStatus
                {
                    Connected = _connected,
                    Collector = _connected ? _collectors[_collector].Endpoint : null,
                    OnFallback = _connected && _collector > 0,
                    Enqueued = _enqueued,
                    Sent = _sent,
                    Resent = _resent,
                    Dropped = _dropped,
                    DroppedUnreported = _droppedUnreported,
                    Pending = _pending.Count,
                    Connections = _connections,
                    LastError = _lastError,
                    CollectorCertificateExpires = _collectorExpires,
                    ClientCertificateExpires = _clientExpires,
                };
            }
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var delay = _options.MinReconnectDelay;
        (CollectorConnection, int)? handedBack = null; // the first collector, which answered while a fallback was in use
        while (!cancellationToken.IsCancellationRequested)
        {
            if ((handedBack ?? await ConnectInTurnAsync(delay, cancellationToken).ConfigureAwait(false)) is not var (connection, index))
            {
                if (!await PauseAsync(delay, cancellationToken).ConfigureAwait(false))
                    return;
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
                continue;
            }
            handedBack = null;
            delay = _options.MinReconnectDelay;
            var collector = _collectors[index];
            lock (_gate)
            {
                _connections++;
                _connected = true;
                _collector = index;
                (_collectorExpires, _clientExpires) = (connection.CollectorCertificateExpires, connection.ClientCertificateExpires);
            }
            _options.Log?.Invoke($"connected to {collector.Endpoint} (certificate verified against {_options.CaFile})"
                + (index > 0 ? $", a fallback while {_options.Endpoint} cannot be reached; {_options.Endpoint} is tried again in {_options.FailbackAfter.TotalSeconds:0.#} s" : ""));
            WarnOfExpiry(connection.CollectorCertificateExpires, connection.ClientCertificateExpires, collector.Endpoint);
            using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var watch = connection.WatchAsync(collector.Endpoint, watchStop.Token);
            try
            {
                handedBack = await PumpAsync(connection, watch, index > 0 ? _options.FailbackAfter : null, cancellationToken).ConfigureAwait(false);
                await HandBackAsync(connection, watch, collector.Endpoint).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            catch (Exception e) when (e is CollectorConnectionLostException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
            {
                int again = Requeue();
                Failed($"{e.Message}; {again} message(s) written in the last {_options.ResendWindow.TotalSeconds:0.#} s will be sent again");
            }
            finally
            {
                lock (_gate)
                    _connected = false;
                watchStop.Cancel();
                await connection.DisposeAsync().ConfigureAwait(false);
                await watch.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
            if (handedBack is null && !cancellationToken.IsCancellationRequested && !await PauseAsync(delay, cancellationToken).ConfigureAwait(false))
                return;
        }
        if (handedBack is var (unused, _)) // stopped while handing back: the first collector's new connection is closed too
            await unused.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Tries the first collector, then each fallback in order, at once; returns the first that answers with a verified
    /// connection, or null when none does (each failure is said, with what happens next).
    /// </summary>
    private async Task<(CollectorConnection, int)?> ConnectInTurnAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        for (int index = 0; index < _collectors.Length; index++)
        {
            try
            {
                return (await CollectorConnection.OpenAsync(_collectors[index], cancellationToken).ConfigureAwait(false), index);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return null;
            }
            catch (Exception e) when (IsConnectFailure(e))
            {
                Failed(index + 1 < _collectors.Length ? $"{e.Message}; trying {_collectors[index + 1].Endpoint}" : $"{e.Message}; retrying in {delay.TotalSeconds:0.#} s");
            }
        }
        return null;
    }

    private static bool IsConnectFailure(Exception e) =>
        e is NetlinkFenceException or IOException or System.Net.Sockets.SocketException or System.Security.Cryptography.CryptographicException;

    /// <summary>
    /// Writes what is queued until the connection fails (which throws why), or, on a fallback, until the first
    /// collector answers again: it is tried every <paramref name="failbackAfter"/> while this connection goes on
    /// carrying denials, and returned once it has.
    /// </summary>
    private async Task<(CollectorConnection, int)> PumpAsync(CollectorConnection connection, Task watch, TimeSpan? failbackAfter, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        long failbackAt = failbackAfter is { } after ? Environment.TickCount64 + (long)after.TotalMilliseconds : long.MaxValue;
        Task<CollectorConnection?>? firstAgain = null;
        try
        {
            while (true)
            {
                if (watch.IsCompleted)
                    await watch.ConfigureAwait(false); // throws why the connection ended
                if (firstAgain is null && Environment.TickCount64 >= failbackAt)
                    firstAgain = TryFirstCollectorAsync(cancellationToken);
                if (firstAgain is { IsCompleted: true })
                {
                    var first = await firstAgain.ConfigureAwait(false);
                    firstAgain = null;
                    if (first is not null)
                        return (first, 0);
                    failbackAt = Environment.TickCount64 + (long)failbackAfter!.Value.TotalMilliseconds;
                }
                List<Item> batch;
                Task wake;
                ulong reported;
                lock (_gate)
                {
                    Forget(DateTimeOffset.UtcNow.Ticks);
                    batch = TakeBatch(out reported);
                    _inFlight = batch.Count > 0;
                    if (batch.Count == 0 && !(AwaitingFirstHeartbeat && _pending.Count > 0)) // held denials are not written yet
                    {
                        _idle.TrySetResult();
                        _idle = NewSignal();
                    }
                    wake = _wake.Task;
                }
                if (reported > 0)
                    _options.Log?.Invoke($"{reported} denial(s) were dropped (queue of {_options.QueueCapacity} full); reported to {_collectors[_collector].Endpoint}");
                if (batch.Count == 0)
                {
                    // Wake up now and then to forget old written messages even when nothing new arrives, and to try the first collector again.
                    var nap = TimeSpan.FromMilliseconds(Math.Clamp(failbackAt - Environment.TickCount64, 1, (long)(_options.ResendWindow / 4).TotalMilliseconds));
                    await Task.WhenAny(wake, watch, Task.Delay(nap, cancellationToken), firstAgain ?? Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
                    cancellationToken.ThrowIfCancellationRequested();
                    continue;
                }
                buffer.SetLength(0);
                foreach (var item in batch)
                    buffer.Write(item.Frame);
                await connection.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    long now = DateTimeOffset.UtcNow.Ticks;
                    foreach (var item in batch)
                        item.WrittenAt = now;
                    _sent += (ulong)batch.Count;
                    _inFlight = false;
                }
            }
        }
        finally
        {
            if (firstAgain is { IsCompleted: false })
                _ = DiscardAsync(firstAgain); // the fallback failed or the forwarder stops while the first collector is tried: its connection is not used
        }

        static async Task DiscardAsync(Task<CollectorConnection?> pending)
        {
            if (await pending.ConfigureAwait(false) is { } unused)
                await unused.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A verified connection to the first collector, or null (said) when it still cannot be reached.</summary>
    private async Task<CollectorConnection?> TryFirstCollectorAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await CollectorConnection.OpenAsync(_options, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e) when (IsConnectFailure(e))
        {
            _options.Log?.Invoke($"{_options.Endpoint} still cannot be reached ({e.Message}); staying on {_collectors[_collector].Endpoint}, tried again in {_options.FailbackAfter.TotalSeconds:0.#} s");
            return null;
        }
    }

    /// <summary>
    /// Leaves a fallback for the first collector (<see cref="CloseConfirmedAsync"/>): when the fallback confirms its close,
    /// what was written to it has arrived; if it does not, the messages written in the resend window are written again
    /// to the first collector (at least once).
    /// </summary>
    private async Task HandBackAsync(CollectorConnection fallback, Task watch, string endpoint)
    {
        bool closed = await CloseConfirmedAsync(fallback, watch, CancellationToken.None).ConfigureAwait(false);
        int again = 0;
        if (closed)
        {
            lock (_gate)
                _written.Clear();
        }
        else
            again = Requeue();
        _options.Log?.Invoke($"{_options.Endpoint} answers again: back to it from {endpoint}" + (closed ? "" : $", which did not confirm its close within {CloseConfirmationTimeout.TotalSeconds:0} s: {again} message(s) written to it in the last {_options.ResendWindow.TotalSeconds:0.#} s are sent again"));
    }

    /// <summary>
    /// Sends close_notify and waits up to <see cref="CloseConfirmationTimeout"/> for the collector to close its side
    /// (<paramref name="watch"/> ends), which it does only after reading everything before it: true when it did.
    /// </summary>
    private static async Task<bool> CloseConfirmedAsync(CollectorConnection connection, Task watch, CancellationToken cancellationToken)
    {
        await connection.CloseAsync().ConfigureAwait(false);
        return await Task.WhenAny(watch, Task.Delay(CloseConfirmationTimeout, cancellationToken)).ConfigureAwait(false) == watch;
    }

    /// <summary>
    /// With heartbeats, the first one is the first message: the collector hears that this forwarder started (and the
    /// state it vouches for) before anything it forwards. Denials wait for it at most the time its reading takes
    /// (<see cref="HeartbeatStateTimeout"/>, after which it goes with <c>state="unreadable"</c>).
    /// </summary>
    private bool AwaitingFirstHeartbeat => _options.Heartbeat is not null && !_firstHeartbeatTaken && !_heartbeatDue;

    /// <summary>The next messages to write (under the gate), formatted, already in the resend buffer so a failed write resends them.</summary>
    private List<Item> TakeBatch(out ulong reported)
    {
        var batch = new List<Item>();
        int bytes = 0;
        reported = 0;
        if (AwaitingFirstHeartbeat)
            return batch;
        reported = _droppedUnreported;
        if (_droppedUnreported > 0)
        {
            var report = new Item(null, null, _formatter.Dropped(_droppedUnreported, _firstDrop, _lastDrop, _options.QueueCapacity, ++_sequence));
            _droppedUnreported = 0;
            batch.Add(report);
            bytes += report.Frame!.Length;
        }
        if (_unlogged.Count > 0)
        {
            var report = new Item(null, null, _formatter.Unlogged(_unlogged.Count, _unlogged.From, _unlogged.To, ++_sequence));
            _unlogged = default;
            batch.Add(report);
            bytes += report.Frame!.Length;
        }
        if (_heartbeatDue)
        {
            var heartbeat = new Item(null, null, _formatter.Heartbeat(_options.Heartbeat!.Value, _sent, _dropped, _pending.Count, ++_sequence, _heartbeatState,
                _collectors[_collector].Endpoint, _collector > 0)) // where it goes: a host on its fallback shows in a merged view
            { IsHeartbeat = true };
            _heartbeatDue = false;
            _firstHeartbeatTaken = true;
            batch.Add(heartbeat);
            bytes += heartbeat.Frame!.Length;
        }
        for (int where = 0; where < _lost.Length; where++)
        {
            if (_lost[where].Count == 0)
                continue;
            var report = new Item(null, null, _formatter.Lost(_lost[where].Count, (DenialLoss)where, _lost[where].From, _lost[where].To, ++_sequence));
            _lost[where] = default;
            batch.Add(report);
            bytes += report.Frame!.Length;
        }
        while (batch.Count < MaxBatchMessages && bytes < MaxBatchBytes && _pending.First is { } node)
        {
            _pending.RemoveFirst();
            var item = node.Value;
            item.Frame ??= item.Format is { } format ? format(++_sequence) : _formatter.Denial(item.Record!, item.Context, ++_sequence);
            batch.Add(item);
            bytes += item.Frame.Length;
        }
        foreach (var item in batch)
        {
            item.WrittenAt = long.MaxValue; // in flight: never forgotten before it is written
            _written.Enqueue(item);
        }
        return batch;
    }

    /// <summary>Forgets written messages older than the resend window, and the oldest beyond the queue's capacity.</summary>
    private void Forget(long now)
    {
        long horizon = now - _options.ResendWindow.Ticks;
        while (_written.TryPeek(out var oldest) && (oldest.WrittenAt < horizon || _written.Count > _options.QueueCapacity))
            _written.Dequeue();
    }

    /// <summary>
    /// After a broken connection: the messages that may not have arrived go back to the front of the queue, in order.
    /// A heartbeat among them is not: it names the collector it was written to, and the next connection may be to
    /// another; a fresh one goes in its place, saying where it goes and what was sent by then.
    /// </summary>
    private int Requeue()
    {
        lock (_gate)
        {
            int count = 0;
            foreach (var item in _written.Reverse())
            {
                if (item.IsHeartbeat)
                {
                    _heartbeatDue = true;
                    continue;
                }
                _pending.AddFirst(item);
                count++;
            }
            _written.Clear();
            _resent += (ulong)count;
            _inFlight = false;
            return count;
        }
    }

    private void Failed(string message)
    {
        lock (_gate)
            _lastError = message;
        _options.Log?.Invoke(message);
    }

    private static async Task<bool> PauseAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        // Up to a quarter more, so many forwarders do not reconnect in step after a collector restart.
        var jittered = delay + TimeSpan.FromTicks((long)(delay.Ticks * 0.25 * Random.Shared.NextDouble()));
        try
        {
            await Task.Delay(jittered, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Wake()
    {
        _wake.TrySetResult();
        _wake = NewSignal();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Stops forwarding and closes the connection (TLS close_notify). Call <see cref="FlushAsync"/> first to send what is queued.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        await _beating.ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>Says, once per certificate, that the collector's or the client certificate expires within <see cref="ExpiryWarning"/>.</summary>
    private void WarnOfExpiry(DateTimeOffset? collector, DateTimeOffset? client, string endpoint)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var (which, expires) in new[] { ("the collector's certificate", collector), ($"the client certificate {_options.ClientCertificateFile}", client) })
        {
            if (expires is not { } at || at - now > ExpiryWarning || !_expiryWarned.Add((which, at)))
                continue;
            _options.Log?.Invoke($"{which} expires at {at:yyyy-MM-ddTHH:mm:ssZ} (in {Math.Max(0, (at - now).TotalDays):0.#} days): renew it, or nothing reaches {endpoint} from then on");
        }
    }

    /// <summary>A heartbeat now (the collector learns that this forwarder started), then one every <paramref name="every"/>.</summary>
    private async Task BeatAsync(TimeSpan every, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var state = await ReadHeartbeatStateAsync(cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    _heartbeatState = state;
                    _heartbeatDue = true;
                    Wake();
                }
                await Task.Delay(every, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary><see cref="SyslogTlsOptions.HeartbeatState"/> now, checked; <c>state="unreadable"</c> when it fails, and the reason logged.</summary>
    private async Task<IReadOnlyList<KeyValuePair<string, string>>?> ReadHeartbeatStateAsync(CancellationToken cancellationToken)
    {
        if (_options.HeartbeatState is not { } read)
            return null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HeartbeatStateTimeout);
        try
        {
            var state = await read(timeout.Token).ConfigureAwait(false);
            foreach (var (name, _) in state)
            {
                if (!Rfc5424Formatter.IsSdName(name))
                    throw new ArgumentException($"'{name}' is not an RFC 5424 SD-NAME (1 to 32 printable ASCII characters, none of = ] \" or space)");
            }
            return state;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _options.Log?.Invoke($"the heartbeat cannot say the state it vouches for ({(e is OperationCanceledException ? $"no answer within {HeartbeatStateTimeout.TotalSeconds:0} s" : e.Message)}); sent with state=\"unreadable\"");
            return [new("state", "unreadable")];
        }
    }

    /// <summary>A count to report to the collector, added up from the reports made until it is written, and the span of time it covers.</summary>
    private struct CountToReport
    {
        public ulong Count;
        public DateTimeOffset From, To;

        public void Add(ulong count, DateTimeOffset from, DateTimeOffset to)
        {
            if (Count == 0)
                From = from;
            Count += count;
            To = to;
        }
    }
}
