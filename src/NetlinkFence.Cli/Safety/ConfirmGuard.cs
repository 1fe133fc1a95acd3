using NetlinkFence.Nftables.Snapshots;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>apply --confirm-within</c>: right before the commit, starts the detached waiter, saves the table it replaces
/// (unless it takes over an earlier unconfirmed apply: then the rollback point stays the last confirmed table), and
/// records the deadline and the waiter; after the commit, records which table the commit left (its handle), so the
/// waiter restores over that table only. The caller holds the state's lock throughout, so no other netlinkfence
/// (nor the earlier waiter) sees a half-done state.
/// </summary>
/// <remarks><paramref name="listedAt"/>: a <see cref="System.Diagnostics.Stopwatch"/> timestamp from before the apply listed the table it replaces.</remarks>
internal sealed class ConfirmGuard(SafetyState state, TimeSpan window, PendingConfirm? earlier, long listedAt)
{
    private readonly string _token = Guid.NewGuid().ToString("N");
    private ProcessIdentity? _waiter;
    private PendingConfirm? _mine;
    private TableSnapshot? _savedBefore;
    private bool _snapshotSaved;

    public PendingConfirm? Pending => _mine;

    /// <summary>
    /// The waiter is found through /proc by pid (its handle on the namespace, its identity): a /proc that belongs to
    /// another PID namespace (e.g. <c>unshare --pid</c> without <c>--mount-proc</c>) would name other processes.
    /// </summary>
    private static void RequireOwnProc()
    {
        string? self = new FileInfo("/proc/self").LinkTarget;
        if (self != Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            throw new SystemFailureException($"/proc is not this process's PID namespace (/proc/self is {self ?? "missing"}, this process is {Environment.ProcessId}), "
                + "so the rollback waiter could not be found again; nothing was changed. Mount /proc for this PID namespace (e.g. unshare --pid --fork --mount-proc)");
    }

    public async Task BeforeCommitAsync(TableContents? before, CancellationToken cancellationToken)
    {
        if (_waiter is null)
        {
            RequireOwnProc();
            var arguments = new List<string> { RollbackWaiterVerb.Name, "--table", state.Table, "--token", _token,
                // The waiter opens the namespace through this process's handle, so it is the very same one.
                "--netns", $"/proc/{Environment.ProcessId}/fd/{state.Target.Handle.FileDescriptor}", "--netns-id", state.Target.Id };
            if (state.Target.Netns is { } netns)
                arguments.AddRange(["--netns-name", netns]);
            int pid = await SelfLauncher.StartDetachedCopyAsync(arguments, cancellationToken);
            _waiter = ProcessIdentity.Of(pid) ?? throw new SystemFailureException($"the rollback waiter (process {pid}) ended right after it started; see {state.LogPath}");
        }
        if (earlier is null)
        {
            if (!_snapshotSaved)
            {
                _savedBefore = state.ReadSnapshot();
                _snapshotSaved = true;
            }
            state.WriteSnapshot(TableSnapshot.Of(NftFamily.Inet, state.Table, before, listedAt));
        }
        _mine = new PendingConfirm(_token, DateTimeOffset.UtcNow + window) { PreviousHandle = before?.Table.Handle ?? 0, Waiter = _waiter };
        state.WritePending(_mine);
    }

    /// <summary>The commit went through and left the table with handle <paramref name="handle"/> (0: unknown).</summary>
    public void Committed(ulong handle)
    {
        _mine = _mine! with { TableHandle = handle };
        state.WritePending(_mine);
    }

    /// <summary>
    /// The apply did not take effect (refused, or put back by the self-test; <paramref name="liveHandle"/> is then the
    /// handle of the table now live): what was pending before it is pending again, with its own waiter and deadline.
    /// </summary>
    public void Abandon(ulong? liveHandle)
    {
        if (_mine is null)
            return;
        if (earlier is not null)
        {
            state.WritePending(earlier with { TableHandle = liveHandle ?? earlier.TableHandle });
            return;
        }
        state.DeletePending();
        if (_savedBefore is not null)
            state.WriteSnapshot(_savedBefore);
        else if (_snapshotSaved)
            state.DeleteSnapshot();
    }
}
