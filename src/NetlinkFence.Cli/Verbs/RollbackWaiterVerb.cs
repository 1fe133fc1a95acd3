using System.CommandLine;
using NetlinkFence.Interop;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>
/// Hidden verb run by <c>apply --confirm-within</c> in a detached copy of this program (new session, stdio on
/// /dev/null): waits until the pending confirm's deadline and then restores the saved table atomically, unless
/// the pending confirm disappears first (confirmed, rolled back by hand) or belongs to a newer apply.
/// </summary>
internal static class RollbackWaiterVerb
{
    public const string Name = "rollback-waiter";

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public static Command Create()
    {
        var token = new Option<string>("--token") { Required = true };
        var command = new Command(Name, "(internal) wait for confirm, roll back when none arrives") { CommonOptions.Table, token };
        command.Hidden = true;
        command.SetAction(async (parse, cancellationToken) =>
        {
            // New session first, then tell the parent (it waits for this line), then let go of its pipes.
            ProcessSession.StartSession();
            Console.Out.WriteLine(SelfLauncher.DetachedMarker);
            Console.Out.Flush();
            ProcessSession.RedirectStandardStreamsToDevNull();
            var state = new SafetyState(parse.GetValue(CommonOptions.NetworkNamespace), parse.GetValue(CommonOptions.Table)!);
            try
            {
                return await WaitAsync(state, parse.GetValue(token)!, cancellationToken);
            }
            catch (StateFileException e)
            {
                state.Log($"rollback FAILED, the live table was left as it is: {e.Message}");
                return ExitCodes.BadInput;
            }
            catch (Exception e)
            {
                state.Log($"rollback FAILED: {e.GetType().Name}: {e.Message}");
                return ExitCodes.KernelRefused;
            }
        });
        return command;
    }

    private static async Task<int> WaitAsync(SafetyState state, string token, CancellationToken cancellationToken)
    {
        state.Log($"waiting for confirm (token {token})");
        while (true)
        {
            PendingConfirm? pending;
            using (await state.LockAsync(cancellationToken))
                pending = state.ReadPending();
            if (pending?.Token != token)
            {
                state.Log(pending is null ? "confirmed (or rolled back by hand): nothing to do" : "a newer apply took over the pending rollback");
                return ExitCodes.Ok;
            }
            var remaining = pending.Deadline - DateTimeOffset.UtcNow;
            if (remaining <= TimeSpan.Zero)
                break;
            await Task.Delay(remaining < Poll ? remaining : Poll, cancellationToken);
        }
        using (await state.LockAsync(cancellationToken))
        {
            if (state.ReadPending()?.Token != token)
                return ExitCodes.Ok;
            if (state.ReadSnapshot() is not { } snapshot)
            {
                state.Log("no confirm arrived, but there is no saved table to restore");
                state.DeletePending();
                return ExitCodes.DriftOrFindings;
            }
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = state.Netns }, cancellationToken);
            string done = await Restorer.RestoreAsync(nft, snapshot, expectedGeneration: null, cancellationToken);
            state.DeletePending();
            state.DeleteSnapshot();
            state.Log("no confirm arrived in time: " + done);
            return ExitCodes.Ok;
        }
    }
}
