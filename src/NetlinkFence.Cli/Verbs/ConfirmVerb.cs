using System.CommandLine;

namespace NetlinkFence.Cli;

/// <summary><c>netlinkfence confirm</c>: keeps the table applied with <c>--confirm-within</c> (cancels the pending rollback).</summary>
internal static class ConfirmVerb
{
    public static Command Create()
    {
        var command = new Command("confirm", "keep the table applied with --confirm-within: cancel the pending rollback") { CommonOptions.Table };
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(async () =>
        {
            var state = new SafetyState(parse.GetValue(CommonOptions.NetworkNamespace), parse.GetValue(CommonOptions.Table)!);
            using (await state.LockAsync(cancellationToken))
            {
                if (state.ReadPending() is not { } pending)
                {
                    string last = File.Exists(state.LogPath) ? File.ReadLines(state.LogPath).LastOrDefault() ?? "" : "";
                    Console.Error.WriteLine($"netlinkfence: nothing to confirm: no apply of table inet {state.Table} is waiting for confirmation"
                        + (last.Length > 0 ? $" (last: {last})" : ""));
                    return ExitCodes.DriftOrFindings;
                }
                state.DeletePending();
                Console.WriteLine($"confirmed: table inet {state.Table} stays; the rollback due at {pending.Deadline.ToLocalTime():HH:mm:ss} is cancelled");
                return ExitCodes.Ok;
            }
        }));
        return command;
    }
}
