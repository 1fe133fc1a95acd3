using NetlinkFence.Policy;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// The daemon's side of update windows: opens and closes from the control socket (between its other changes), the
/// records each change makes (window log, journal, collector), and the ends the kernel enforces, which no command asks
/// for: a window's (an <c>expire</c> record) and an audit's.
/// </summary>
internal sealed partial class DaemonHost
{
    /// <summary>Window changes through the daemon's own live policy (its connection owns the table), logged with the caller's uid.</summary>
    private KernelWindowControl Windows(Peer peer) => WindowControl(_policy.Source.Policy, peer.Uid);

    /// <summary>
    /// Window changes (and their records) through the daemon's own live policy, under <paramref name="policy"/>'s entries:
    /// each record goes to the window log, the journal and, with <c>log.remote</c>, the collector.
    /// </summary>
    private KernelWindowControl WindowControl(EgressPolicy policy, uint? askingUid) =>
        new(_target, policy, _policy.Table.Name, askingUid, Live, LogPrefix, forward: (verb, entry, uid, detail) =>
        {
            if (_forwarding is { } forwarding)
                forwarding.ReportWindow(verb, entry, uid, detail);
            else
                _unshipped?.Add((verb, entry, uid, detail)); // the start's reopened windows: forwarding starts after them
        });

    /// <summary>Ships the window records of the start (the windows it opened again) once forwarding runs; none are held after.</summary>
    private void ShipStartRecords()
    {
        foreach (var (verb, entry, uid, detail) in _unshipped ?? [])
            _forwarding?.ReportWindow(verb, entry, uid, detail);
        _unshipped = null;
    }

    /// <summary>
    /// An open or close from the control socket, between the daemon's other changes (a repair carries the windows open
    /// when it began: one closed meanwhile would come back); the expiry watch is told what is open after it.
    /// </summary>
    private async Task<T> ChangeWindowsAsync<T>(Func<Task<T>> change, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        var began = DateTimeOffset.UtcNow;
        try
        {
            return await change();
        }
        finally
        {
            _expiries.Changed(Live.OpenedWindows, began);
            _changes.Release();
        }
    }

    /// <summary>
    /// Records each window the kernel closed when its time ran out (<see cref="WindowExpiries"/>), and logs the end of an
    /// audit this daemon started that the kernel ended (its learner gone): wakes a second after the next end, or when a
    /// change moved it, and reads the kernel first, so that what it records is what happened. Ends only with the
    /// daemon: a failure is logged, and the window is recorded as the kernel's timeout ends it.
    /// </summary>
    private async Task RecordExpiriesAsync(CancellationToken cancellationToken)
    {
        var margin = TimeSpan.FromSeconds(1); // the kernel's timeout starts at the commit, a little after the end was computed
        while (true)
        {
            Task changed;
            DateTimeOffset? next;
            await _changes.WaitAsync(cancellationToken);
            try
            {
                (changed, next) = (_expiries.WhenChanged, NextKernelEnd());
            }
            finally
            {
                _changes.Release();
            }
            using (var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                // At most an hour: a window's end is within a day, and Task.Delay refuses anything past 49 days.
                var wait = next is { } end ? TimeSpan.FromTicks(Math.Clamp((end + margin - DateTimeOffset.UtcNow).Ticks, 0, TimeSpan.TicksPerHour)) : Timeout.InfiniteTimeSpan;
                await Task.WhenAny(changed, Task.Delay(wait, wake.Token));
                wake.Cancel(); // the other timer, when a change woke this
            }
            cancellationToken.ThrowIfCancellationRequested();
            await _changes.WaitAsync(cancellationToken);
            try
            {
                var due = _expiries.TakeDue(DateTimeOffset.UtcNow - margin);
                if (due.Count > 0)
                    await RecordExpiredAsync(due, cancellationToken);
                if (_auditEnds is { } ends && ends <= DateTimeOffset.UtcNow - margin)
                    await LogAuditEndAsync(ends, cancellationToken);
            }
            finally
            {
                _changes.Release();
            }
        }
    }

    /// <summary>The earliest end the kernel enforces that the loop waits for: an open window's, or this daemon's audit's.</summary>
    private DateTimeOffset? NextKernelEnd() =>
        (_expiries.NextEnd, _auditEnds) switch
        {
            ({ } window, { } audit) => window < audit ? window : audit,
            var (window, audit) => window ?? audit,
        };

    /// <summary>
    /// The audit this daemon started ran to its end and nobody ended it (the learner was killed): the kernel's timeout
    /// did, which the journal says as it said the start, since an audit accepts what the policy denies.
    /// </summary>
    private async Task LogAuditEndAsync(DateTimeOffset ends, CancellationToken cancellationToken)
    {
        try
        {
            await using var nft = await _target.ConnectAsync(cancellationToken);
            if (await AuditMode.ReadAsync(nft, _policy.Table.Name, cancellationToken) is { Remaining: { } left })
            {
                _auditEnds = DateTimeOffset.UtcNow + left; // still on (another start): logged at its new end
                return;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log($"audit: its time ran out at {ends.UtcDateTime:HH:mm:ss}Z; reading the table to confirm it ended failed: {e.Message}");
        }
        _auditEnds = null;
        Log($"audit: ended when its time ran out at {ends.UtcDateTime:HH:mm:ss}Z (the kernel's timeout; nobody ended it): {TableText} enforces the policy again");
    }

    private async Task RecordExpiredAsync(List<(string Entry, DateTimeOffset Until)> due, CancellationToken cancellationToken)
    {
        IReadOnlyList<LiveWindow>? windows = null;
        string unread = "";
        try
        {
            windows = await Live.WindowsAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            unread = $" (not read back: listing the table failed: {e.Message})";
        }
        var now = DateTimeOffset.UtcNow;
        var control = WindowControl(_policy.Source.Policy, askingUid: null);
        foreach (var (entry, until) in due)
        {
            if (windows?.FirstOrDefault(w => w.Entry.Name == entry) is { IsOpen: true, Remaining: { } left })
            {
                _expiries.StillOpen(entry, now + left); // extended by a change this daemon did not see as one
                continue;
            }
            try
            {
                control.Record("expire", entry, $"its time ran out at {until.UtcDateTime:HH:mm:ss}Z and the kernel closed it{unread}");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log($"window {entry}: its time ran out at {until.UtcDateTime:HH:mm:ss}Z and the kernel closed it; recording that in the window log failed: {e.Message}");
            }
        }
    }
}
