using System.CommandLine;
using NetlinkFence.Interop;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence rollback</c>: restores the table as it was before the last apply, atomically, now; it also cancels
/// a pending confirmation (its waiter then has nothing left to do).
/// </summary>
internal static class RollbackVerb
{
    public static Command Create()
    {
        var command = new Command("rollback", "restore the table as it was before the last apply (remove it if there was none), in one transaction").WithPolicyTable();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            using var target = TargetNamespace.Open(parse.GetValue(CommonOptions.NetworkNamespace));
            var state = new SafetyState(target, PolicyTable.Resolve(parse));
            StateCleanup.RemoveVanished(state);
            using (await state.LockAsync(cancellationToken))
            {
                state.Claim();
                if (state.ReadSnapshot() is not { } snapshot)
                {
                    Console.Error.WriteLine($"netlinkfence: nothing to roll back: no saved table inet {state.Table} for this namespace ({state.SnapshotPath})");
                    return ExitCodes.DriftOrFindings;
                }
                var pending = state.ReadPending();
                await using var nft = await target.ConnectAsync(cancellationToken);
                await Daemon.HeldByDaemonException.ThrowIfHeldAsync(target, state.Table, "rollback", cancellationToken);
                var windows = WindowRecords.RestoredOpen(state, snapshot, "that rollback");
                RestoreOutcome restored;
                try
                {
                    // Over whatever table is there (none, too): listed at the generation it commits against, for the
                    // windows it closes.
                    restored = await Restorer.RestoreOwnAsync(nft, snapshot, isOurs: _ => true, cancellationToken);
                }
                catch (NetlinkFence.Nftables.TransactionRejectedException e) when (ApplyVerb.OwnedByAnother(e)) // a daemon that started meanwhile
                {
                    await Daemon.HeldByDaemonException.ThrowIfHeldAsync(target, state.Table, "rollback", cancellationToken, e);
                    throw;
                }
                windows(DirectoryHandle.EffectiveUserId, restored.Replaced);
                string done = restored.Message;
                state.DeletePending();
                state.DeleteSnapshot();
                if (pending is not null)
                    done += PendingReport.WaiterAlive(pending)
                        ? $"; the pending rollback due at {PendingReport.Due(pending)} is cancelled (this was it)"
                        : "; the unconfirmed apply's rollback waiter was already gone, so this is the rollback it never did";
                state.Log("rollback verb: " + done);
                Console.WriteLine(done);
                return ExitCodes.Ok;
            }
        }));
        return command;
    }
}
