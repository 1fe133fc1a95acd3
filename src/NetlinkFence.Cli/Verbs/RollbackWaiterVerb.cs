using System.CommandLine;
using System.Runtime.InteropServices;
using NetlinkFence.Interop;

namespace NetlinkFence.Cli;

/// <summary>
/// Hidden verb run by <c>apply --confirm-within</c> in a detached copy of this program (new session, stdio on
/// /dev/null): waits until the pending confirm's deadline and then restores the saved table atomically, unless the
/// pending confirm disappears first (confirmed, rolled back by hand) or belongs to a newer apply. SIGTERM, SIGINT and
/// SIGHUP (a container stop, logind killing the user's processes) make it roll back at once instead of dying.
/// It restores only over the table the guarded apply left there (by handle); anything else is left alone and logged.
/// The namespace is the apply's own handle (opened through /proc/APPLY/fd/N, checked by device and inode) and is
/// held open to the end, so a namespace name re-used meanwhile cannot redirect the rollback.
/// </summary>
internal static class RollbackWaiterVerb
{
    public const string Name = "rollback-waiter";

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public static Command Create()
    {
        var token = new Option<string>("--token") { Required = true };
        var netnsId = new Option<string>("--netns-id") { Required = true, Description = "DEVICE:INODE the --netns file must be" };
        var netnsName = new Option<string>("--netns-name") { Description = "the apply's --netns, for what the window log calls the namespace" };
        var command = new Command(Name, "(internal) wait for confirm, roll back when none arrives") { CommonOptions.Table, token, netnsId, netnsName };
        command.Hidden = true;
        command.SetAction(async (parse, _) =>
        {
            ProcessSession.StartSession();
            TargetNamespace target;
            try
            {
                // Before the detached line: a mismatch makes the apply fail before it commits anything.
                target = TargetNamespace.OpenExpecting(parse.GetValue(netnsName), parse.GetValue(CommonOptions.NetworkNamespace)!, parse.GetValue(netnsId)!);
            }
            catch (Exception e) when (e is InvalidInputException or ErrnoException)
            {
                Console.Error.WriteLine($"netlinkfence: {e.Message}");
                return ExitCodes.BadInput;
            }
            using var _target = target;
            using var rollbackNow = new CancellationTokenSource();
            string? signal = null;
            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = true; // do not die: roll back, as at the deadline
                signal ??= context.Signal.ToString();
                rollbackNow.Cancel();
            }
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);
            // Tell the parent (it waits for this line), then let go of its pipes.
            Console.Out.WriteLine(SelfLauncher.DetachedMarker);
            Console.Out.Flush();
            ProcessSession.RedirectStandardStreamsToDevNull();
            // Never creates the state directory: one that is gone (a tmpfs emptied, a test run's private directory
            // removed) holds nothing pending of this waiter's, and making it again would leave it behind, empty but for
            // a lock and a log.
            var state = new SafetyState(target, parse.GetValue(CommonOptions.Table)!, createDirectory: false);
            try
            {
                return await WaitAsync(state, parse.GetValue(token)!, rollbackNow.Token, () => signal);
            }
            catch (StateFileException e) when (e.DirectoryGone)
            {
                return ExitCodes.Ok;
            }
            catch (StateFileException e)
            {
                state.Log($"rollback FAILED, the live table was left as it is: {e.Message}");
                return ExitCodes.BadInput;
            }
            catch (Exception e)
            {
                state.Log($"rollback FAILED: {e.GetType().Name}: {e.Message}; the unconfirmed table may still be live: run '{SuggestedCommand.For("rollback", state)}'");
                return ExitCodes.KernelRefused;
            }
        });
        return command;
    }

    private static async Task<int> WaitAsync(SafetyState state, string token, CancellationToken rollbackNow, Func<string?> signal)
    {
        state.Log($"waiting for confirm (token {token})");
        while (!rollbackNow.IsCancellationRequested)
        {
            PendingConfirm? pending;
            using (await LockAsync(state))
                pending = state.ReadPending();
            if (pending?.Token != token)
            {
                state.Log("the pending rollback is no longer this waiter's (confirmed, rolled back, or taken over by a newer apply): nothing to do");
                return ExitCodes.Ok;
            }
            var remaining = pending.Deadline - DateTimeOffset.UtcNow;
            if (remaining <= TimeSpan.Zero)
                break;
            try
            {
                await Task.Delay(remaining < Poll ? remaining : Poll, rollbackNow);
            }
            catch (OperationCanceledException)
            {
            }
        }
        string why = signal() is { } name ? $"{name} before the deadline, rolled back at once" : "no confirm arrived in time";
        using (await LockAsync(state))
        {
            if (state.ReadPending() is not { } pending || pending.Token != token)
            {
                state.Log($"{why}, but the pending rollback is no longer this waiter's: nothing to do");
                return ExitCodes.Ok;
            }
            if (state.ReadSnapshot() is not { } snapshot)
            {
                state.Log($"{why}, but there is no saved table to restore");
                state.DeletePending();
                return ExitCodes.DriftOrFindings;
            }
            await using var nft = await state.Target.ConnectAsync(CancellationToken.None);
            var windows = WindowRecords.RestoredOpen(state, snapshot, $"the unconfirmed apply's rollback ({why})");
            var outcome = await Restorer.RestoreOwnAsync(nft, snapshot, pending.LeftThere, CancellationToken.None);
            state.DeletePending();
            if (outcome.Restored)
            {
                state.DeleteSnapshot();
                windows(DirectoryHandle.EffectiveUserId, outcome.Replaced);
            }
            state.Log(outcome.Restored ? $"{why}: {outcome.Message}" : $"{why}, but {outcome.Message}");
            return ExitCodes.Ok;
        }
    }

    /// <summary>The state's lock, however long an apply (with its self-test) holds it: the rollback must not give up.</summary>
    private static async Task<IDisposable> LockAsync(SafetyState state)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await state.LockAsync(CancellationToken.None);
            }
            catch (Exception e) when ((e is IOException or StateFileException { DirectoryGone: false }) && attempt < 20) // LockAsync waits 30 s each time: 10 minutes in all
            {
            }
        }
    }
}
