using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Monitoring;
using NetlinkFence.Policy;
using NetlinkFence.Runtime;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// <c>netlinkfence run</c>: applies the policy (the same generation-checked atomic replace as <c>apply</c>), then
/// holds the table until SIGTERM/SIGINT: it owns it (owner|persist, so only its socket may change it, and it stays
/// when the daemon exits: fail closed), or, where the kernel refuses that, watches it and repairs foreign changes.
/// SIGHUP and the control socket's <c>reload</c> re-read the policy file; a file that does not compile is logged
/// and the running policy stays. Every change goes through the one connection that owns the table.
/// </summary>
internal sealed partial class DaemonHost
{
    private readonly string _policyPath;
    private readonly string? _netns;
    private readonly NftablesConnection _nft;
    private readonly SystemdNotifier _notifier;
    private readonly TargetNamespace _target;
    private readonly SafetyState _state;
    private readonly SemaphoreSlim _changes = new(1, 1);
    private CompiledPolicy _policy;
    private TableMode _mode;
    private LivePolicy? _live;
    private CancellationTokenSource? _refreshing;
    private Task _refresher = Task.CompletedTask;
    private bool _refreshedOnce; // the current refresher's first round was logged
    private DnsRefresher? _names; // the running refresher (null when the policy follows no name)
    private DenialForwarding? _forwarding;
    private DateTimeOffset? _auditEnds; // an audit this daemon started (learn --audit), until the kernel ends it
    private DateTimeOffset? _repairFailingSince; // watch mode: the table differs from the policy and repairs fail
    private MetricsWriter? _metrics; // run --prometheus: told about each change this daemon makes
    private readonly DaemonDuties _duties = new(); // what runs beside the main loop, and must run as long as it does
    private readonly WindowExpiries _expiries = new(); // the open windows' ends, for the window log's 'expire' (under _changes)
    private List<(string Verb, string Entry, uint Uid, string Detail)>? _unshipped = []; // window records of the start, until forwarding starts
    private readonly Channel<string> _reloads; // why, for each reload asked (SIGHUP, a followed name's first IPv6 address)
    private bool _reloadedForIPv6; // a followed name's first IPv6 address asked for a reload (once per daemon)

    private DaemonHost(string policyPath, TargetNamespace target, SafetyState state, NftablesConnection nft, SystemdNotifier notifier, CompiledPolicy policy, Channel<string> reloads)
    {
        _reloads = reloads;
        _policyPath = policyPath;
        _netns = target.Netns;
        _target = target;
        _state = state;
        _nft = nft;
        _notifier = notifier;
        _policy = policy;
    }

    /// <summary>The running policy, attached after the first apply (windows, element reloads, DNS refreshes go through it).</summary>
    private LivePolicy Live => _live ?? throw new InvalidOperationException("not attached yet");

    private uint Flags => _mode == TableMode.Owner ? Table.OwnerFlag | Table.PersistFlag : 0;

    private string TableText => $"table inet {_policy.Table.Name}";

    public static async Task<int> RunAsync(string policyPath, string? netns, bool noOwner, DaemonMetrics? metrics, CancellationToken cancellationToken)
    {
        using var stop = new CancellationTokenSource();
        var reloads = Channel.CreateUnbounded<string>();
        // Handled here, not by the runtime: SIGTERM/SIGINT end the daemon with the table left in place, SIGHUP reloads.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; reloads.Writer.TryWrite("SIGHUP"); });

        using var target = TargetNamespace.Open(netns);
        // Absolute from here on: the status answer names it, and 'reload --policy P' is compared with it.
        policyPath = Path.GetFullPath(policyPath);
        var compiled = await PolicyFiles.CompileAsync(policyPath, checkOwnership: true, cancellationToken, netns);
        var state = new SafetyState(target, compiled.Table.Name);
        using var held = DaemonLock.TryTake(state, out int holder);
        if (held is null)
        {
            Console.Error.WriteLine($"netlinkfence: another 'netlinkfence run'{(holder > 0 ? $" (pid {holder})" : "")} already holds table inet {compiled.Table.Name} "
                + $"in {target.Description}; stop it first (its control socket is {DaemonPaths.ControlSocket(target, compiled.Table.Name)}); nothing was changed");
            return ExitCodes.BadInput;
        }
        using var notifier = SystemdNotifier.FromEnvironment();
        await using var nft = await target.ConnectAsync(cancellationToken);
        await nft.GetGenerationAsync(cancellationToken); // no CAP_NET_ADMIN: says so before anything else
        var daemon = new DaemonHost(policyPath, target, state, nft, notifier, compiled, reloads);

        NftablesMonitor? monitor = null;
        try
        {
            using (await state.LockAsync(cancellationToken)) // no apply, confirm or rollback in between
            {
                state.Claim();
                var wereOpen = await daemon.WindowsOpenBeforeAsync(cancellationToken);
                monitor = await daemon.FirstApplyAsync(noOwner, target, cancellationToken);
                await daemon.RecordWindowEntriesAsync(cancellationToken);
                daemon._live = await LivePolicy.AttachAsync(nft, compiled.Source, cancellationToken);
                await daemon.ReopenAsync(wereOpen, cancellationToken);
                daemon._expiries.Changed(daemon.Live.OpenedWindows, DateTimeOffset.UtcNow);
            }
            if (IPv6Housekeeping.Note(compiled, target) is { } ipv6)
                Log(ipv6);
            daemon.StartRefresher(compiled.Source);
            await daemon.StartForwardingAsync(compiled, cancellationToken);
            daemon.ShipStartRecords();
            using var running = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
            var duties = daemon._duties;
            duties.Add("watching the table for foreign changes", monitor is null ? null
                : new TableWatcher(monitor, compiled.Table.Name, nft.PortId, daemon.RepairAsync).RunAsync(running.Token));
            duties.Add("re-binding scoped services", daemon.StartScopeBinding(running.Token));
            duties.Add("recording the windows the kernel closes", daemon.RecordExpiriesAsync(running.Token));
            await using var control = ControlServer.Start(DaemonPaths.ControlSocket(target, compiled.Table.Name), daemon.HandleAsync);
            Log($"control socket {control.Path}");
            daemon._metrics = metrics is null ? null : new MetricsWriter(metrics.File, metrics.Every, target, () => daemon._policy, () => daemon._forwarding?.Health, daemon._changes, Log);
            duties.Add("writing the metrics file", daemon._metrics?.RunAsync(running.Token));
            notifier.Notify($"READY=1\nSTATUS={daemon.Status()}\nMAINPID={Environment.ProcessId}");

            var dutyEnded = duties.FirstEndAsync();
            string? ended = null;
            try
            {
                while (true)
                {
                    var reload = reloads.Reader.ReadAsync(stop.Token).AsTask();
                    // A stop cancels the duties too: one that ends because of it has not failed (the reload read throws).
                    if (await Task.WhenAny(reload, dutyEnded) == dutyEnded && !stop.IsCancellationRequested)
                    {
                        ended = await dutyEnded;
                        break;
                    }
                    await daemon.ReloadAsync(await reload, stop.Token);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            // A duty that ended leaves a daemon that only looks whole (a watch-mode one that no longer repairs): exit,
            // non-zero, for the service manager to start a whole one (Restart=on-failure); the table stays.
            if (ended is not null)
                Log($"{ended} while the daemon runs: exiting (status {ExitCodes.SystemFailure}) for the service manager to start it again");
            notifier.Notify($"STOPPING=1\nSTATUS={(ended is null ? "stopping" : ended)}; the table stays in place");
            running.Cancel();
            await daemon.StopRefresherAsync();
            await daemon.StopForwardingAsync();
            bool clean = await duties.StopAsync(Log);
            Log($"stopping: {daemon.TableText} stays in place"
                + (daemon._mode == TableMode.Owner ? " (persist: it outlives this daemon's socket, orphaned until the next 'run' adopts it)" : ""));
            return ended is null && clean ? ExitCodes.Ok : ExitCodes.SystemFailure;
        }
        finally
        {
            if (monitor is not null)
                await monitor.DisposeAsync();
        }
    }

    /// <summary>
    /// The first commit: with owner|persist unless told otherwise; where the kernel refuses those flags (EOPNOTSUPP,
    /// EINVAL: before Linux 6.9), without them, in watch mode (the monitor is opened before the commit, so no change
    /// after it is missed). An orphaned persist table a previous daemon left is replaced, and so adopted.
    /// </summary>
    private async Task<NftablesMonitor?> FirstApplyAsync(bool noOwner, TargetNamespace target, CancellationToken cancellationToken)
    {
        if (!noOwner)
        {
            try
            {
                _mode = TableMode.Owner;
                var result = await ApplyAsync(_policy, cancellationToken);
                var owner = result.Committed?.Table.Owner;
                Log($"mode: owner. {TableText} is owned by this daemon's netlink socket (port {_nft.PortId}{(owner == _nft.PortId ? "" : $"; read back: owner {owner?.ToString() ?? "none"}")}): "
                    + "no other process, root 'nft' included, can change or delete it; it stays in place when the daemon exits");
                return null;
            }
            catch (TransactionRejectedException e) when (!e.IsPermissionDenied && e.Failures.Any(f => f.Error.Errno is (int)Errno.OPNOTSUPP or (int)Errno.INVAL))
            {
                Log($"the kernel refused the table flags owner|persist ({e.Message}): falling back to watching");
            }
        }
        _mode = TableMode.Watch;
        var monitor = await NftablesMonitor.OpenAsync(new() { NamespaceHandle = target.Handle });
        try
        {
            await ApplyAsync(_policy, cancellationToken);
        }
        catch
        {
            await monitor.DisposeAsync();
            throw;
        }
        Log($"mode: watch{(noOwner ? " (--no-owner)" : "")}. {TableText} is not owned: any change to it by another process is repaired as soon as it is seen, and logged");
        return monitor;
    }

    /// <summary>
    /// The windows of this policy's window entries open in the table this start is about to replace (a restart, an
    /// upgrade's try-restart), also when an edited policy made the table differ: none when there is no table. The
    /// replace closes them, as apply does; <see cref="ReopenAsync"/> opens them again for the time they had left, so a
    /// restart in the middle of an update does not cut it off.
    /// </summary>
    /// <remarks>
    /// Only entries that were windows in the policy that made the table too, when the daemon that made it recorded them
    /// (<see cref="WindowEntriesRecord"/>): an entry that was permanent holds its followed names' addresses timed, as an
    /// open window holds its destinations, and an edit that made it a window entry must leave it closed.
    /// </remarks>
    private async Task<IReadOnlyList<(string Entry, DateTimeOffset Until)>> WindowsOpenBeforeAsync(CancellationToken cancellationToken)
    {
        if (!_policy.Source.Policy.Egress.Any(e => e.Window is not null))
            return [];
        var open = await LivePolicy.ReadOpenWindowsAsync(_nft, _policy.Source, cancellationToken);
        if (open.Count == 0 || await _nft.GetTableAsync(NftFamily.Inet, _policy.Table.Name, cancellationToken) is not { } table
            || RecordedWindowEntries(table.Handle) is not { } windows)
            return open;
        foreach (var (entry, _) in open.Where(w => !windows.Contains(w.Entry)))
            Log($"window {entry}: the table holds timed addresses of it, but it was not a window entry in the policy that made the table "
                + "(they are a followed name's addresses): it stays closed, as apply leaves a window");
        return open.Where(w => windows.Contains(w.Entry)).ToList();
    }

    private IReadOnlySet<string>? RecordedWindowEntries(ulong tableHandle)
    {
        try
        {
            return WindowEntriesRecord.Read(_state, tableHandle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or StateFileException)
        {
            Log($"cannot read the record of the window entries of {TableText} ({e.Message}): every window entry the table holds open is taken as open");
            return null;
        }
    }

    /// <summary>After a change that may have re-created the table or changed which entries are windows: records them for the next start.</summary>
    private async Task RecordWindowEntriesAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await _nft.GetTableAsync(NftFamily.Inet, _policy.Table.Name, cancellationToken) is { } table)
                WindowEntriesRecord.Write(_state, table.Handle, _policy.Source.Policy);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or StateFileException or NetlinkFenceException)
        {
            Log($"cannot record the window entries of {TableText} ({e.Message}): a restart takes every window entry the table holds open as open");
        }
    }

    /// <summary>
    /// Opens each window again until the time it had (never longer: the kernel's expiry stays the operator's), logged
    /// and recorded like any open. One that cannot be opened stays closed (fail closed), and the log says why.
    /// </summary>
    private async Task ReopenAsync(IReadOnlyList<(string Entry, DateTimeOffset Until)> windows, CancellationToken cancellationToken)
    {
        var control = WindowControl(_policy.Source.Policy, askingUid: null);
        foreach (var (entry, until) in windows)
        {
            // At most its window: the same policy's (a restart), or a shorter one the new policy gives it.
            var left = Min(until - DateTimeOffset.UtcNow, KernelWindowControl.CheckWindow(_policy.Source.Policy, entry));
            if (left <= TimeSpan.Zero)
                continue;
            try
            {
                await control.OpenAsync(entry, left, cancellationToken);
                Log($"window {entry}: it was open before this start, which closed it; opened again for the {WindowDuration.Format(left)} it had left");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log($"window {entry}: it was open before this start, which closed it; not opened again ({e.Message}): run '{SuggestedCommand.OpenWindow(entry, _policyPath, _target.Netns)}' if it is still needed");
            }
        }

        static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
    }

    /// <summary>The atomic replace, with the mode's table flags, through the daemon's own connection.</summary>
    private async Task<ApplyResult> ApplyAsync(CompiledPolicy policy, CancellationToken cancellationToken)
    {
        var result = await PolicyApplier.ApplyAsync(_nft, policy.WithTableFlags(Flags), retries: 3, Rendering.Rule, cancellationToken);
        Log($"applied {policy.Source.Policy.Source}: {result.Changes.Count} change(s), {result.Commit.Messages} messages, generation {result.Commit.GenerationAfter}"
            + (AppliedChanges.CreatedTable(result.Changes) || result.Changes.Count == 0 ? "" : $" ({AppliedChanges.Legend}):"));
        // What the start changed in a table that was there (drift, another policy, windows it closed), as apply prints it.
        foreach (string line in AppliedChanges.Lines(result.Changes))
            Log("  " + line);
        if (TableBuild.Replaced(result, policy) is { } replacedBuild) // after an upgrade's restart: the journal says from which build
            Log(replacedBuild);
        return result;
    }

    /// <summary>
    /// Re-reads the policy file and replaces the table; a file that does not load leaves the running policy as it is.
    /// <paramref name="askingUid"/>: the control socket's peer; null for a signal (which only root can send the daemon).
    /// </summary>
    private async Task<ControlResponse> ReloadAsync(string why, CancellationToken cancellationToken, uint? askingUid = null)
    {
        _notifier.Notify("RELOADING=1\nSTATUS=reloading");
        try
        {
            CompiledPolicy next;
            try
            {
                next = await PolicyFiles.CompileAsync(_policyPath, checkOwnership: true, cancellationToken, _netns);
            }
            catch (Exception e) when (e is PolicyException or IOException or UnauthorizedAccessException)
            {
                var text = new StringWriter();
                ExitCodes.Report(e, text);
                foreach (string line in text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    Console.Error.WriteLine(line);
                Log($"reload ({why}) refused: the running policy stays in place");
                return ControlResponse.Error($"reload refused, the running policy stays: {text.ToString().Trim().Replace("netlinkfence: ", "")}");
            }
            if (next.Table.Name != _policy.Table.Name)
            {
                Log($"reload ({why}) refused: the policy now names table {next.Table.Name}, but this daemon holds {_policy.Table.Name}; restart the daemon to move");
                return ControlResponse.Error($"the policy now names table {next.Table.Name}, but this daemon holds {_policy.Table.Name}: restart it to move");
            }
            ReloadResult result;
            EgressPolicy previous;
            await _changes.WaitAsync(cancellationToken);
            try
            {
                previous = _policy.Source.Policy;
                if (_forwarding is not null) // a replace starts the counters again: what they hold is said first
                    await _forwarding.ReportUnloggedNowAsync(cancellationToken);
                var openBefore = Live.OpenedWindows;
                var began = DateTimeOffset.UtcNow;
                // Element changes when only destinations, ports or windows differ; else one atomic replace that keeps
                // the table owned (LivePolicy re-creates it with the flags it attached to). One transaction either way.
                try
                {
                    result = await Live.ReloadAsync(next.Source, cancellationToken);
                }
                finally
                {
                    _expiries.Changed(Live.OpenedWindows, began);
                }
                _policy = next;
                var windows = WindowControl(next.Source.Policy, askingUid);
                foreach (var change in ReloadedWindows.Between(openBefore, Live.OpenedWindows, next.Source.Policy, why, DateTimeOffset.UtcNow))
                    windows.Record(change.Verb, change.Entry, change.Detail);
                if (result.Kind == ReloadKind.Replace)
                    await RestoreAuditAsync(cancellationToken);
                await RecordWindowEntriesAsync(cancellationToken);
            }
            finally
            {
                _changes.Release();
            }
            await StopRefresherAsync();
            StartRefresher(next.Source);
            if (DenialForwarding.Differs(_forwarding, next))
            {
                await StopForwardingAsync();
                await StartForwardingAsync(next, cancellationToken);
            }
            else
                _forwarding?.Explain(next);
            string how = result.Kind switch
            {
                ReloadKind.Elements => $"element changes only: {result.ElementsRemoved} removed, {result.ElementsAdded} added"
                    + (result.ElementsRetimed > 0 ? $", {result.ElementsRetimed} with a new timeout" : ""),
                ReloadKind.Replace => "atomic replace of the table, open windows and followed names' addresses carried in it",
                _ => "no commit: the table already holds what the policy allows",
            };
            // A new window entry adds nothing to the table (closed), which must not read as an edit that was not taken.
            var newWindows = next.Source.Policy.Egress.Where(e => e.Window is not null && previous.Egress.All(p => p.Name != e.Name)).Select(e => e.Name).ToList();
            if (newWindows.Count > 0)
                how += $" (new window entr{(newWindows.Count == 1 ? "y" : "ies")} {string.Join(", ", newWindows)}: closed until opened)";
            Log($"reloaded ({why}): {how}{(result.Commit is { } c ? $", {c.Messages} messages, generation {c.GenerationAfter}" : "")}");
            return new ControlResponse { Ok = true, Message = $"reloaded {_policyPath} into {TableText}: {how}" };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var text = new StringWriter();
            int exit = ExitCodes.Report(e, text);
            Console.Error.Write(text.ToString());
            Log($"reload ({why}) failed: the table is as it was before the reload");
            return ControlResponse.Error(text.ToString().Trim().Replace("netlinkfence: ", ""), exit);
        }
        finally
        {
            _notifier.Notify($"READY=1\nSTATUS={Status()}");
            _metrics?.Changed(); // SIGHUP's and the control socket's alike
        }
    }

    /// <summary>
    /// Watch mode: puts the table back to the policy after changes another process made (or that may have been lost;
    /// none: the last repair failed and this tries again). False when it could not: the watcher tries again later.
    /// </summary>
    private async Task<bool> RepairAsync(IReadOnlyList<NftablesChange> changes, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await _changes.WaitAsync(cancellationToken);
        try
        {
            var live = await _nft.ListTableAsync(NftFamily.Inet, _policy.Table.Name, cancellationToken);
            // Open windows and refreshed names are this daemon's own elements: only a change beyond them is repaired.
            // Compiled from the live policy: a unit re-bound since the apply has its current cgroup id there.
            var policy = PolicyCompiler.Compile(Live.Policy).WithTableFlags(Flags);
            var differences = TableDiff.CompareRunning(policy, live, DateTimeOffset.UtcNow, Rendering.Rule)
                .Concat(RunningState.ForeignWindows(Live, live)).ToList();
            if (_auditEnds > DateTimeOffset.UtcNow)
                differences = differences.Where(d => d.Subject != $"set {AuditMode.SetName}").ToList(); // our own audit, not drift
            foreach (var change in changes)
                Log($"foreign change to {TableText}: {change}");
            if (changes.Count == 0)
                Log($"trying again to repair {TableText} ({differences.Count} difference(s) from the policy)");
            if (differences.Count == 0)
            {
                RepairSucceeded();
                return true;
            }
            foreach (var difference in differences)
                Log($"  differs from the policy: {difference.Kind} {difference.Subject}: {difference.Detail}");
            // Open windows and followed names' addresses are this daemon's state, not drift: the replace carries them.
            var running = RunningState.Capture(Live, _names);
            var began = DateTimeOffset.UtcNow;
            try
            {
                var commit = await Live.RestoreAsync(running.Windows, running.Names, cancellationToken);
                _expiries.Changed(Live.OpenedWindows, began);
                Log($"repaired {TableText} {When()}, in one transaction "
                    + $"({commit.Messages} messages, generation {commit.GenerationAfter}) that kept {running.Describe(DateTimeOffset.UtcNow)}");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The foreign change must not stay because the running state could not be carried: the policy alone
                // (fail closed: windows closed until opened again, names back at their next refresh round).
                Log($"repair: the replace carrying open windows and followed names failed ({e.Message}); replacing with the policy alone");
                await ApplyAsync(policy, cancellationToken);
                Log($"repaired {TableText} {When()}, without its open windows and followed names");
            }
            await RestoreAuditAsync(cancellationToken);
            await RecordWindowEntriesAsync(cancellationToken); // the replace made a new table (a new handle)
            RepairSucceeded();
            _metrics?.Changed();
            return true;

            string When() => changes.Count == 0 ? "on a retry" : $"{Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.#} ms after the change was seen";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log($"repairing {TableText} failed: {e.Message}; it is tried again at the next change, and before that after a pause (1 s, doubling up to 30 s)");
            if (_repairFailingSince is null)
            {
                _repairFailingSince = DateTimeOffset.UtcNow;
                _notifier.Notify($"STATUS={Status()}"); // `systemctl status` shows it until a repair lands
            }
            return false;
        }
        finally
        {
            _changes.Release();
        }
    }

    private async Task<ControlResponse> HandleAsync(ControlRequest request, Peer peer, CancellationToken cancellationToken)
    {
        Log($"control: {request.Op ?? "(no op)"}{(request.Name is null ? "" : " " + request.Name)} from {peer}");
        var response = await HandleOpAsync(request, peer, cancellationToken);
        if (response.Ok && request.Op != "status")
            _metrics?.Changed(); // a reload tells it itself (SIGHUP too)
        return response;
    }

    private async Task<ControlResponse> HandleOpAsync(ControlRequest request, Peer peer, CancellationToken cancellationToken)
    {
        switch (request.Op)
        {
            case "status":
            {
                var status = await Windows(peer).StatusAsync(cancellationToken);
                return new ControlResponse
                {
                    Ok = true, Message = Status(), Table = _policy.Table.Name, Mode = _mode.ToString().ToLowerInvariant(),
                    Policy = _policyPath, Pid = Environment.ProcessId,
                    Windows = status.Windows.Select(ToControl).ToList(),
                    Audit = status.Audit is { } audit ? new ControlAudit(audit.Table, audit.Remaining?.TotalSeconds, audit.Ends) : null,
                    Forwarding = _forwarding is { } forwarding ? forwarding.Health : null,
                };
            }
            case "reload":
                return await ReloadAsync($"control socket, {peer}", cancellationToken, peer.Uid);
            case "open":
            {
                if (request.Name is null)
                    return ControlResponse.Error("open needs \"name\" (a window entry); nothing was changed");
                var entry = _policy.Source.Policy.Egress.FirstOrDefault(e => e.Name == request.Name);
                var span = request.For is null ? entry?.Window ?? TimeSpan.Zero
                    : WindowDuration.Parse(request.For) ?? throw new UsageException($"\"for\": '{request.For}' is not a duration; write 90s, 10m or 1h30m");
                var window = await ChangeWindowsAsync(() => Windows(peer).OpenAsync(request.Name, span, cancellationToken), cancellationToken);
                return new ControlResponse { Ok = true, Message = $"{request.Name}: open", Windows = [ToControl(window)] };
            }
            case "close":
                if (request.Name is null)
                    return ControlResponse.Error("close needs \"name\" (a window entry); nothing was changed");
            {
                bool wasOpen = await ChangeWindowsAsync(() => Windows(peer).CloseAsync(request.Name, cancellationToken), cancellationToken);
                return new ControlResponse { Ok = true, Message = WindowVerbs.Closed(request.Name, wasOpen), WasOpen = wasOpen };
            }
            case "audit":
            {
                var span = request.For is null ? throw new UsageException("audit needs \"for\" (how long, e.g. 10m); nothing was changed") : Duration.Parse(request.For);
                var audit = await StartAuditAsync(span, peer, cancellationToken);
                return new ControlResponse { Ok = true, Message = audit.Banner, Pid = Environment.ProcessId, Audit = new ControlAudit(audit.Table, audit.Remaining?.TotalSeconds, audit.Ends) };
            }
            case "audit-end":
                await EndAuditAsync(peer, cancellationToken);
                return new ControlResponse { Ok = true, Message = $"audit mode ended: {TableText} enforces the policy again" };
            default:
                return ControlResponse.Error($"unknown op '{request.Op}': expected open, close, status, reload, audit or audit-end; nothing was changed");
        }
    }

    /// <summary>
    /// <c>learn --audit</c> through the daemon: the audit elements (kernel timeout: the audit ends on time even if
    /// nothing runs) committed on the daemon's own connection, the only one an owned table accepts; in watch mode a
    /// change from the daemon's own socket is not a foreign one. Remembered, so a repair or a reload that replaces the
    /// table puts the audit back for the time it has left.
    /// </summary>
    private async Task<AuditState> StartAuditAsync(TimeSpan duration, Peer peer, CancellationToken cancellationToken)
    {
        if (duration > AuditMode.MaxDuration)
            throw new UsageException($"an audit lasts at most {AuditMode.MaxDuration.TotalHours:0}h; nothing was changed");
        await _changes.WaitAsync(cancellationToken);
        try
        {
            AuditState audit;
            try
            {
                audit = await AuditMode.StartAsync(_nft, _policy.Table.Name, duration, cancellationToken);
            }
            catch (InvalidOperationException e)
            {
                throw new UsageException(e.Message);
            }
            _auditEnds = audit.Ends;
            _expiries.Wake(); // an end for the expiry loop to wait for
            Log($"audit: started by uid {peer.Uid} for {duration.TotalSeconds:0.###}s: {TableText} ACCEPTS (and logs) what the policy denies until {audit.Ends:u}");
            return audit;
        }
        finally
        {
            _changes.Release();
        }
    }

    private async Task EndAuditAsync(Peer peer, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            _auditEnds = null;
            await AuditMode.StopAsync(_nft, _policy.Table.Name, cancellationToken);
            Log($"audit: ended by uid {peer.Uid}: {TableText} enforces the policy again");
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>After the table was replaced (repair, reload): the audit this daemon started goes back in for the time it has left.</summary>
    private async Task RestoreAuditAsync(CancellationToken cancellationToken)
    {
        var left = _auditEnds - DateTimeOffset.UtcNow;
        if (left is null || left <= TimeSpan.FromMilliseconds(1))
        {
            _auditEnds = null;
            return;
        }
        await AuditMode.StartAsync(_nft, _policy.Table.Name, left.Value, cancellationToken);
        Log($"audit: restored after the table was replaced, {left.Value.TotalSeconds:0.#}s left");
    }

    private static ControlWindow ToControl(LiveWindow window) =>
        new(window.Entry.Name, window.IsOpen, Math.Round(window.Remaining?.TotalSeconds ?? 0, 3), window.AlsoAllowedBy.Count > 0 ? [.. window.AlsoAllowedBy] : null);

    /// <summary>
    /// Keeps the policy's DNS names fresh: each answer becomes element additions with kernel timeouts (TTL + grace)
    /// through the live policy, on the daemon's connection. A failed refresh is logged; the next one tries again.
    /// </summary>
    private void StartRefresher(ResolvedPolicy policy)
    {
        var refresher = new DnsRefresher(policy, DnsHostResolver.ForPolicy(policy.Policy, _netns), RefreshAsync, log: Log);
        if (refresher.NotRefreshed.Count > 0)
            Log($"dns: {string.Join(", ", refresher.NotRefreshed)}: used only in input 'from:', resolved at start and at each reload, not refreshed");
        _names = refresher.Names.Count == 0 ? null : refresher;
        if (_names is null)
            return;
        _refreshing = new CancellationTokenSource();
        _refreshedOnce = false;
        var token = _refreshing.Token;
        Log($"dns: keeping {refresher.Names.Count} name(s) fresh (min_ttl {refresher.Settings.MinTtl.TotalSeconds:0}s, max_ttl {refresher.Settings.MaxTtl.TotalSeconds:0}s, grace {refresher.Settings.Grace.TotalSeconds:0}s)");
        _refresher = Task.Run(async () =>
        {
            try
            {
                await refresher.RunAsync(token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                // Names no longer refreshed expire in the kernel (the agent is cut off): a whole daemon, started again, refreshes them.
                _duties.Fail($"refreshing DNS names failed: {e.Message}");
            }
        });
    }

    /// <summary>
    /// Keeps unit- and cgroup-scoped entries bound to the cgroup ids their services have now: a restarted unit gets a new
    /// cgroup (a new id), which the kernel does not match (denied) until the elements are moved to it, right after the
    /// hierarchy reports the change. Runs whatever the policy (a reload may add by: items). Null when no cgroup2
    /// hierarchy is mounted.
    /// </summary>
    private Task? StartScopeBinding(CancellationToken cancellationToken)
    {
        var host = ServiceHosts.Create();
        if (host.Hierarchy is not { } hierarchy)
        {
            if (_policy.Source.Scopes.Keys.Any(s => s.IsCgroup))
                Log("scope: no cgroup2 hierarchy is mounted; unit and cgroup scoped entries cannot be re-bound");
            return null;
        }
        var watcher = new CgroupWatcher(hierarchy.MountPoint) { WatchUnavailable = reason => Log($"scope: {reason}: a restarted service is re-bound within that time, not at once") };
        return Task.Run(() => watcher.RunAsync(async token =>
        {
            if (!_live!.Policy.Scopes.Keys.Any(s => s.IsCgroup))
                return;
            var seen = Stopwatch.GetTimestamp();
            try
            {
                foreach (var rebind in await Live.RebindAsync(host, token))
                    Log(rebind.Note is { } note ? $"scope: {note}"
                        : $"scope: {rebind.Scope} re-bound {rebind.Before?.ToString() ?? "(absent)"} -> {rebind.After?.ToString() ?? "(absent: denied until it is back)"}, "
                          + $"{Stopwatch.GetElapsedTime(seen).TotalMilliseconds:0.#} ms after the change was seen");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log($"scope: re-binding failed: {e.Message}; the old cgroup ids stay (they match nothing: denied), tried again at the next change");
            }
        }, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// One refresh round: every answered name in one element transaction. When the kernel refuses it, each name is
    /// tried on its own, so one name the kernel will not take does not hold back the others.
    /// </summary>
    private async Task RefreshAsync(IReadOnlyList<(string Host, IReadOnlyList<(System.Net.IPAddress Address, DateTimeOffset Expires)> Addresses)> names,
        CancellationToken cancellationToken)
    {
        try
        {
            ReleaseAnswerGarbage();
            await Live.RefreshNamesAsync(names, cancellationToken);
            ReleaseRoundMemory();
            ReloadForIPv6(names);
            if (!_refreshedOnce)
            {
                // Once per refresher (start, reload), not every round: the end of start-up, after this round's garbage
                // was collected (DaemonSteadyStateTests measures RSS from this line on).
                _refreshedOnce = true;
                Log($"dns: first refresh round committed ({names.Count} name(s)) and its memory released; managed heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:0.0} MiB");
            }
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException && names.Count > 1)
        {
            Log($"dns: refreshing {names.Count} names in one transaction in {TableText} failed: {e.Message}; trying them one by one");
        }
        foreach (var (host, addresses) in names)
        {
            try
            {
                await Live.RefreshNamesAsync([(host, addresses)], cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log($"dns: refreshing {host} in {TableText} failed: {e.Message}; tried again when it is next due");
            }
        }
    }

    /// <summary>
    /// A policy compiled without IPv6 peers has no IPv6 neighbour discovery, so a followed name's IPv6 address, added
    /// by a refresh, could not be reached (the solicitation for the router is dropped). Its first one asks for a reload,
    /// which compiles the policy with the name's addresses as they are now: one atomic replace that adds the housekeeping.
    /// </summary>
    private void ReloadForIPv6(IReadOnlyList<(string Host, IReadOnlyList<(System.Net.IPAddress Address, DateTimeOffset Expires)> Addresses)> names)
    {
        if (_policy.HasIPv6Peers || _reloadedForIPv6)
            return;
        // Index loops: this runs after every round of an IPv4-only policy, which allocates nothing per address.
        for (int n = 0; n < names.Count; n++)
        {
            var addresses = names[n].Addresses;
            for (int a = 0; a < addresses.Count; a++)
            {
                if (addresses[a].Address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
                    continue;
                _reloadedForIPv6 = true;
                Log($"dns: {names[n].Host} has IPv6 addresses now, and the running policy has no IPv6 peer (no IPv6 neighbour discovery): reloading to add it");
                _reloads.Writer.TryWrite($"{names[n].Host} has IPv6 addresses");
                return;
            }
        }
    }

    /// <summary>
    /// Between the two halves of a round: DnsClient's queries and answers (about 8.5 MiB for 1,000 names) are garbage
    /// once the answers are merged, and the commit allocates about 5.6 MiB more. The GC's gen0 budget is sized from the
    /// L3 cache (~130 MiB on a 260 MiB-L3 host), so without this no collection runs inside a round and RSS rises by both
    /// halves; a gen0 collection here lets the commit reuse the answers' memory (peak about base + 9 MiB instead of
    /// base + 14; DaemonSteadyStateTests). Chosen over capping the budget for the whole binary
    /// (GCGen0MaxBudget through ILC), which doubled the CPU of `import iptables` on 10 MB. About a millisecond.
    /// </summary>
    private static void ReleaseAnswerGarbage() => GC.Collect(0, GCCollectionMode.Forced, blocking: true);

    /// <summary>
    /// A round of 1,000 names allocates about 14 MB (DnsClient's answers, the allow-set re-plan) that is garbage once
    /// committed; the daemon then sleeps until the next round. Collecting, compacting and decommitting now, after the
    /// commit, gives back what the round left (memory the GC would otherwise keep committed until later collections),
    /// so the resident size between rounds is the live data (measured by DaemonSteadyStateTests). Costs a few ms per
    /// round; rounds are at least min_ttl apart.
    /// </summary>
    private static void ReleaseRoundMemory() => GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    private async Task StopRefresherAsync()
    {
        if (_refreshing is null)
            return;
        _refreshing.Cancel();
        await _refresher;
        _refreshing.Dispose();
        _refreshing = null;
    }

    /// <summary>
    /// With <c>log.remote</c>: denials go to the collector from now on. A collector or CA that cannot be used is
    /// logged and the table stays enforced: forwarding is evidence, never a reason to open or drop the policy.
    /// </summary>
    private async Task StartForwardingAsync(CompiledPolicy policy, CancellationToken cancellationToken)
    {
        try
        {
            _forwarding = await DenialForwarding.StartAsync(policy, _policyPath, _netns, Log, cancellationToken, heartbeatState: HeartbeatStateAsync);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log($"forward: denials are not forwarded: {e.Message}; fix log.remote and reload (SIGHUP)");
        }
    }

    /// <summary>What each heartbeat to the collector vouches for (<see cref="Watch.HeartbeatState"/>), read between the daemon's changes as the metrics are.</summary>
    private async Task<IReadOnlyList<KeyValuePair<string, string>>> HeartbeatStateAsync(CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            await using var nft = await _target.ConnectAsync(cancellationToken);
            return Watch.HeartbeatState.Of(await TableMetrics.ReadAsync(nft, _policy, cancellationToken));
        }
        finally
        {
            _changes.Release();
        }
    }

    private async Task StopForwardingAsync()
    {
        if (_forwarding is null)
            return;
        await _forwarding.DisposeAsync();
        _forwarding = null;
    }

    private string Status() =>
        $"{TableText} from {_policyPath}, mode {_mode.ToString().ToLowerInvariant()}" + (_netns is null ? "" : $", namespace {_netns}")
        + (_repairFailingSince is { } since ? $"; REPAIR FAILING since {since:yyyy-MM-ddTHH:mm:ssZ}: the table differs from the policy (see the log)" : "");

    /// <summary>A repair landed (or found nothing to repair): a failing state shown in the status ends.</summary>
    private void RepairSucceeded()
    {
        if (_repairFailingSince is null)
            return;
        _repairFailingSince = null;
        _notifier.Notify($"STATUS={Status()}");
    }

    /// <summary>What begins each line the daemon logs (stderr: the journal under systemd).</summary>
    private const string LogPrefix = "netlinkfence[run]";

    private static void Log(string line) => Console.Error.WriteLine($"{LogPrefix}: {line}");
}
