using System.CommandLine;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary><c>netlinkfence remove</c>: deletes the tool's table (and only it), atomically.</summary>
internal static class RemoveVerb
{
    public static Command Create()
    {
        var command = new Command("remove", "delete the netlinkfence table; other tables are never touched") { CommonOptions.Table };
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(async () =>
        {
            string table = parse.GetValue(CommonOptions.Table)!;
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = parse.GetValue(CommonOptions.NetworkNamespace) }, cancellationToken);
            // Destroy: succeeds whether or not the table exists.
            try
            {
                await nft.CommitAsync(new Transaction().DestroyTable(new Table(NftFamily.Inet, table)), cancellationToken: cancellationToken);
            }
            catch (TransactionRejectedException e) when (ApplyVerb.OwnedByAnother(e))
            {
                await Daemon.ControlClient.ExplainOwnerAsync(parse.GetValue(CommonOptions.NetworkNamespace), table, Console.Error, cancellationToken);
                throw;
            }
            Console.WriteLine($"removed table inet {table}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
