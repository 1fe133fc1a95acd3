using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>apply --confirm-within</c>: right before the commit, saves the table it replaces (unless an earlier apply
/// is still unconfirmed: then the rollback point stays the last confirmed table), records the deadline, and
/// starts the detached waiter, so the rollback happens even if this process dies right after the commit.
/// </summary>
internal sealed class ConfirmGuard(SafetyState state, TimeSpan window)
{
    private readonly string _token = Guid.NewGuid().ToString("N");
    private bool _wrotePending;
    private bool _started;
    private bool _replacedAnother;

    public async Task BeforeCommitAsync(TableContents? before, CancellationToken cancellationToken)
    {
        using (await state.LockAsync(cancellationToken))
        {
            var pending = state.ReadPending();
            if (pending is null || pending.Token == _token)
                state.WriteSnapshot(TableSnapshot.Of(NftFamily.Inet, state.Table, before));
            else if (!_wrotePending)
                _replacedAnother = true; // the other apply's waiter sees the new token and stops; ours takes over
            state.WritePending(new PendingConfirm(_token, DateTimeOffset.UtcNow + window));
            _wrotePending = true;
        }
        if (!_started)
        {
            var arguments = new List<string> { RollbackWaiterVerb.Name, "--table", state.Table, "--token", _token };
            if (state.Netns is { } netns)
                arguments.AddRange(["--netns", netns]);
            await SelfLauncher.StartDetachedCopyAsync(arguments, cancellationToken);
            _started = true;
        }
    }

    /// <summary>The apply did not take effect (refused, or rolled back by the self-test): nothing is left to confirm.</summary>
    public async Task AbandonAsync(CancellationToken cancellationToken)
    {
        if (!_wrotePending || _replacedAnother) // an earlier unconfirmed apply still needs its rollback: keep waiting
            return;
        using (await state.LockAsync(cancellationToken))
        {
            if (state.ReadPending()?.Token == _token)
                state.DeletePending();
        }
    }
}
