using System.CommandLine;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence confirm</c>: keeps the table applied with <c>--confirm-within</c> (cancels the pending rollback).
/// It claims to have cancelled a rollback only when the waiter that would do it still runs; when the waiter is gone
/// (SIGKILL), the table stays as well, but it says that no rollback was left to cancel and exits 1.
/// </summary>
internal static class ConfirmVerb
{
    public static Command Create()
    {
        var command = new Command("confirm", "keep the table applied with --confirm-within: cancel the pending rollback").WithPolicyTable();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            using var target = TargetNamespace.Open(parse.GetValue(CommonOptions.NetworkNamespace));
            var state = new SafetyState(target, PolicyTable.Resolve(parse));
            StateCleanup.RemoveVanished(state);
            using (await state.LockAsync(cancellationToken))
            {
                state.Claim();
                if (state.ReadPending() is not { } pending)
                {
                    string last = state.LastLogLine();
                    Console.Error.WriteLine($"netlinkfence: nothing to confirm: no apply of table inet {state.Table} is waiting for confirmation"
                        + (last.Length > 0 ? $" (last: {last})" : ""));
                    return ExitCodes.DriftOrFindings;
                }
                state.DeletePending();
                if (!PendingReport.WaiterAlive(pending))
                {
                    Console.Error.WriteLine($"netlinkfence: kept table inet {state.Table}, but there was no rollback left to cancel: {PendingReport.WaiterGone(state, pending)}");
                    state.Log("confirm: kept the table; the waiter was already gone");
                    return ExitCodes.DriftOrFindings;
                }
                state.Log("confirm: the pending rollback is cancelled");
                Console.WriteLine($"confirmed: table inet {state.Table} stays; the rollback due at {PendingReport.Due(pending)} is cancelled");
                return ExitCodes.Ok;
            }
        }));
        return command;
    }
}
