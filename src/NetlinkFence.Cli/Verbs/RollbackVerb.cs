using System.CommandLine;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary><c>netlinkfence rollback</c>: restores the table as it was before the last apply, atomically, now.</summary>
internal static class RollbackVerb
{
    public static Command Create()
    {
        var command = new Command("rollback", "restore the table as it was before the last apply (remove it if there was none), in one transaction") { CommonOptions.Table };
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(async () =>
        {
            var state = new SafetyState(parse.GetValue(CommonOptions.NetworkNamespace), parse.GetValue(CommonOptions.Table)!);
            using (await state.LockAsync(cancellationToken))
            {
                if (state.ReadSnapshot() is not { } snapshot)
                {
                    Console.Error.WriteLine($"netlinkfence: nothing to roll back: no saved table inet {state.Table} for this namespace ({state.SnapshotPath})");
                    return ExitCodes.DriftOrFindings;
                }
                await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = state.Netns }, cancellationToken);
                string done = await Restorer.RestoreAsync(nft, snapshot, expectedGeneration: null, cancellationToken);
                state.DeletePending();
                state.DeleteSnapshot();
                state.Log("rollback verb: " + done);
                Console.WriteLine(done);
                return ExitCodes.Ok;
            }
        }));
        return command;
    }
}
