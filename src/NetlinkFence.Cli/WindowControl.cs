using NetlinkFence.Interop;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// What <c>open</c>, <c>close</c> and <c>status</c> ask of a running policy. <see cref="KernelWindowControl"/> works on
/// the kernel directly; the daemon serves the same three calls over its control socket (its side calls
/// <see cref="KernelWindowControl"/>, the CLI's side replaces it with a socket client when a daemon runs).
/// </summary>
internal interface IWindowControl
{
    /// <summary>Opens <paramref name="entry"/> for <paramref name="duration"/> (extends, never shortens).</summary>
    Task<LiveWindow> OpenAsync(string entry, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>Closes <paramref name="entry"/> at once; false when it was not open (nothing to close).</summary>
    Task<bool> CloseAsync(string entry, CancellationToken cancellationToken);

    /// <summary>Every window entry with its remaining time, and the table's audit state (null: enforcing).</summary>
    Task<WindowStatus> StatusAsync(CancellationToken cancellationToken);
}

/// <summary>
/// What <c>status</c> reports: the window entries, an active audit (which accepts what the policy denies), and the daemon
/// that answered (null: none did, the kernel was read directly).
/// </summary>
internal sealed record WindowStatus(IReadOnlyList<LiveWindow> Windows, AuditState? Audit, RunningDaemon? Daemon = null);

/// <summary>
/// Window control on the kernel: attaches a <see cref="LivePolicy"/> to the policy's live table in the target namespace
/// for each call, and records each open and close (stderr and the state directory's window log, with the uid that
/// asked: this process's own, or the peer's that the daemon read with SO_PEERCRED).
/// </summary>
/// <remarks>
/// The daemon passes its own <paramref name="attached"/> live policy (only its connection may change a table it owns),
/// its <paramref name="logPrefix"/>, so these lines read like its other log lines, and <paramref name="forward"/>,
/// which ships each record to the policy's collector (verb, entry, uid, detail).
/// </remarks>
internal sealed class KernelWindowControl(TargetNamespace target, EgressPolicy policy, string table, uint? askingUid = null, LivePolicy? attached = null,
    string logPrefix = "netlinkfence", Action<string, string, uint, string>? forward = null) : IWindowControl
{
    public async Task<LiveWindow> OpenAsync(string entry, TimeSpan duration, CancellationToken cancellationToken)
    {
        CheckOpen(policy, entry, duration);
        var window = await WithLiveAsync(live => live.OpenWindowAsync(entry, duration, cancellationToken), cancellationToken);
        var left = window.Remaining ?? TimeSpan.Zero;
        Record("open", entry, $"for {WindowDuration.Format(duration)}, open {WindowDuration.Format(left)} from now, until {(DateTimeOffset.UtcNow + left).UtcDateTime:HH:mm:ss}Z");
        return window;
    }

    public async Task<bool> CloseAsync(string entry, CancellationToken cancellationToken)
    {
        CheckWindow(policy, entry);
        var (wasOpen, until) = await WithLiveAsync(async live =>
        {
            // The end it had (this object's, or found open when it attached): the log says how much of it was cut.
            var until = live.OpenedWindows.Where(w => w.Entry == entry).Select(w => (DateTimeOffset?)w.Until).FirstOrDefault();
            return (await live.CloseWindowAsync(entry, cancellationToken), until);
        }, cancellationToken);
        Record("close", entry, !wasOpen ? "it was not open; nothing to close"
            : until is { } end ? $"closed now, {WindowRecords.Seconds(end - DateTimeOffset.UtcNow)} before its end at {end.UtcDateTime:HH:mm:ss}Z" : "closed now");
        return wasOpen;
    }

    public async Task<WindowStatus> StatusAsync(CancellationToken cancellationToken)
    {
        var windows = await WithLiveAsync(live => live.WindowsAsync(cancellationToken), cancellationToken);
        // Read on a connection of its own: reading does not need the owning socket (the daemon's stays free for changes).
        await using var nft = await target.ConnectAsync(cancellationToken);
        return new WindowStatus(windows, await AuditMode.ReadAsync(nft, table, cancellationToken));
    }

    /// <summary>The checks the issue names as bad input (exit 2), before anything touches the kernel.</summary>
    public static void CheckOpen(EgressPolicy policy, string entry, TimeSpan duration)
    {
        var window = CheckWindow(policy, entry);
        if (duration <= TimeSpan.Zero)
            throw new UsageException($"--for must be more than 0s (the longest for '{entry}' is its window, {WindowDuration.Format(window)})");
        if (duration > window)
            throw new UsageException($"'{entry}' opens for at most its window, {WindowDuration.Format(window)}; --for {WindowDuration.Format(duration)} is longer");
    }

    public static TimeSpan CheckWindow(EgressPolicy policy, string entry)
    {
        var found = policy.Egress.FirstOrDefault(e => e.Name == entry)
            ?? throw new UsageException($"the policy ({policy.Source}) has no egress entry '{entry}'"
                + (policy.Egress.Any(e => e.Window is not null) ? $"; its windows: {string.Join(", ", policy.Egress.Where(e => e.Window is not null).Select(e => e.Name))}" : "; it has no window entries"));
        return found.Window ?? throw new UsageException($"'{entry}' has no 'window:' in {policy.Source}: it is a permanent entry, not a window; add e.g. 'window: 30m' to it");
    }

    private async Task<T> WithLiveAsync<T>(Func<LivePolicy, Task<T>> call, CancellationToken cancellationToken)
    {
        if (attached is not null)
            return await call(attached);
        var resolved = await PolicyFiles.ResolveAsync(WithTable(), target.Netns, cancellationToken);
        await using var nft = await target.ConnectAsync(cancellationToken);
        return await call(await LiveAttach.AttachAsync(nft, resolved, policy.Table, target, cancellationToken));
    }

    private EgressPolicy WithTable() => policy with { Table = table };

    /// <summary>Logs and records one change to a window (an open, a close, what a reload did to one).</summary>
    public void Record(string verb, string entry, string detail)
    {
        uint uid = askingUid ?? DirectoryHandle.EffectiveUserId;
        WindowRecords.Append(target, table, uid, verb, entry, detail, logPrefix);
        forward?.Invoke(verb, entry, uid, detail);
    }
}
