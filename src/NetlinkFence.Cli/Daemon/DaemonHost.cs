using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Monitoring;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// <c>netlinkfence run</c>: applies the policy (the same generation-checked atomic replace as <c>apply</c>), then
/// holds the table until SIGTERM/SIGINT: it owns it (owner|persist, so only its socket may change it, and it stays
/// when the daemon exits: fail closed), or, where the kernel refuses that, watches it and repairs foreign changes.
/// SIGHUP and the control socket's <c>reload</c> re-read the policy file; a file that does not compile is logged
/// and the running policy stays. Every change goes through the one connection that owns the table.
/// </summary>
internal sealed class DaemonHost
{
    private readonly string _policyPath;
    private readonly string? _netns;
    private readonly NftablesConnection _nft;
    private readonly SystemdNotifier _notifier;
    private readonly SemaphoreSlim _changes = new(1, 1);
    private CompiledPolicy _policy;
    private TableMode _mode;

    private DaemonHost(string policyPath, string? netns, NftablesConnection nft, SystemdNotifier notifier, CompiledPolicy policy)
    {
        _policyPath = policyPath;
        _netns = netns;
        _nft = nft;
        _notifier = notifier;
        _policy = policy;
    }

    private uint Flags => _mode == TableMode.Owner ? Table.OwnerFlag | Table.PersistFlag : 0;

    private string TableText => $"table inet {_policy.Table.Name}";

    public static async Task<int> RunAsync(string policyPath, string? netns, bool noOwner, CancellationToken cancellationToken)
    {
        using var stop = new CancellationTokenSource();
        var reloads = Channel.CreateUnbounded<string>();
        // Handled here, not by the runtime: SIGTERM/SIGINT end the daemon with the table left in place, SIGHUP reloads.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; reloads.Writer.TryWrite("SIGHUP"); });

        using var target = TargetNamespace.Open(netns);
        var compiled = await PolicyFiles.CompileAsync(policyPath, checkOwnership: true, cancellationToken);
        var state = new SafetyState(target, compiled.Table.Name);
        using var held = DaemonLock.TryTake(state, out int holder);
        if (held is null)
        {
            Console.Error.WriteLine($"netlinkfence: another 'netlinkfence run'{(holder > 0 ? $" (pid {holder})" : "")} already holds table inet {compiled.Table.Name} "
                + $"in {target.Description}; stop it first (its control socket is {DaemonPaths.ControlSocket(netns, compiled.Table.Name)}); nothing was changed");
            return ExitCodes.BadInput;
        }
        using var notifier = SystemdNotifier.FromEnvironment();
        await using var nft = await target.ConnectAsync(cancellationToken);
        await nft.GetGenerationAsync(cancellationToken); // no CAP_NET_ADMIN: says so before anything else
        var daemon = new DaemonHost(policyPath, netns, nft, notifier, compiled);

        NftablesMonitor? monitor = null;
        try
        {
            using (await state.LockAsync(cancellationToken)) // no apply, confirm or rollback in between
            {
                state.Claim();
                monitor = await daemon.FirstApplyAsync(noOwner, target, cancellationToken);
            }
            using var running = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
            var watching = monitor is null ? Task.CompletedTask
                : new TableWatcher(monitor, compiled.Table.Name, nft.PortId, daemon.RepairAsync).RunAsync(running.Token);
            await using var control = ControlServer.Start(DaemonPaths.ControlSocket(netns, compiled.Table.Name), daemon.HandleAsync);
            Log($"control socket {control.Path}");
            notifier.Notify($"READY=1\nSTATUS={daemon.Status()}\nMAINPID={Environment.ProcessId}");

            try
            {
                while (true)
                {
                    string why = await reloads.Reader.ReadAsync(stop.Token);
                    await daemon.ReloadAsync(why, stop.Token);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            notifier.Notify("STOPPING=1\nSTATUS=stopping; the table stays in place");
            running.Cancel();
            try
            {
                await watching;
            }
            catch (OperationCanceledException)
            {
            }
            Log($"stopping: {daemon.TableText} stays in place"
                + (daemon._mode == TableMode.Owner ? " (persist: it outlives this daemon's socket, orphaned until the next 'run' adopts it)" : ""));
            return ExitCodes.Ok;
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

    /// <summary>The atomic replace, with the mode's table flags, through the daemon's own connection.</summary>
    private async Task<ApplyResult> ApplyAsync(CompiledPolicy policy, CancellationToken cancellationToken)
    {
        var result = await PolicyApplier.ApplyAsync(_nft, policy.WithTableFlags(Flags), retries: 3, Rendering.Rule, cancellationToken);
        Log($"applied {policy.Source.Policy.Source}: {result.Changes.Count} change(s), {result.Commit.Messages} messages, generation {result.Commit.GenerationAfter}");
        return result;
    }

    /// <summary>Re-reads the policy file and replaces the table; a file that does not load leaves the running policy as it is.</summary>
    private async Task<ControlResponse> ReloadAsync(string why, CancellationToken cancellationToken)
    {
        _notifier.Notify("RELOADING=1\nSTATUS=reloading");
        try
        {
            CompiledPolicy next;
            try
            {
                next = await PolicyFiles.CompileAsync(_policyPath, checkOwnership: true, cancellationToken);
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
            await _changes.WaitAsync(cancellationToken);
            try
            {
                await ApplyAsync(next, cancellationToken);
                _policy = next;
            }
            finally
            {
                _changes.Release();
            }
            Log($"reloaded ({why})");
            return new ControlResponse { Ok = true, Message = $"reloaded {_policyPath} into {TableText}" };
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
        }
    }

    /// <summary>Watch mode: puts the table back to the policy after changes another process made (or that may have been lost).</summary>
    private async Task RepairAsync(IReadOnlyList<NftablesChange> changes, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var who = changes.FirstOrDefault(c => c.Kind != NftablesChangeKind.Lost);
        await _changes.WaitAsync(cancellationToken);
        try
        {
            var expected = _policy.WithTableFlags(Flags).ToExpectedContents();
            var live = await _nft.ListTableAsync(NftFamily.Inet, _policy.Table.Name, cancellationToken);
            var differences = TableDiff.Compare(expected, live, Rendering.Rule);
            foreach (var change in changes)
                Log($"foreign change to {TableText}: {change}");
            if (differences.Count == 0)
                return;
            foreach (var difference in differences)
                Log($"  differs from the policy: {difference.Kind} {difference.Subject}: {difference.Detail}");
            await ApplyAsync(_policy, cancellationToken);
            Log($"repaired {TableText} {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.#} ms after the change was seen");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log($"repairing {TableText} failed: {e.Message}; it is tried again at the next change");
        }
        finally
        {
            _changes.Release();
        }
    }

    private async Task<ControlResponse> HandleAsync(ControlRequest request, Peer peer, CancellationToken cancellationToken)
    {
        Log($"control: {request.Op ?? "(no op)"}{(request.Name is null ? "" : " " + request.Name)} from {peer}");
        switch (request.Op)
        {
            case "status":
                return new ControlResponse
                {
                    Ok = true, Message = Status(), Table = _policy.Table.Name, Mode = _mode.ToString().ToLowerInvariant(),
                    Policy = _policyPath, Pid = Environment.ProcessId,
                };
            case "reload":
                return await ReloadAsync($"control socket, {peer}", cancellationToken);
            case "open" or "close":
                return ControlResponse.Error($"'{request.Op}' is not served by this daemon yet (windows need the live policy); nothing was changed");
            default:
                return ControlResponse.Error($"unknown op '{request.Op}': expected open, close, status or reload; nothing was changed");
        }
    }

    private string Status() =>
        $"{TableText} from {_policyPath}, mode {_mode.ToString().ToLowerInvariant()}" + (_netns is null ? "" : $", namespace {_netns}");

    private static void Log(string line) => Console.Error.WriteLine($"netlinkfence[run]: {line}");
}
