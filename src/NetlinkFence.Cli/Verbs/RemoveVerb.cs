using System.CommandLine;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence remove</c>: deletes the tool's table (and only it), atomically. The table is named the one way every
/// live-table verb names it (<see cref="PolicyTable"/>). A plain delete, not a destroy: the kernel says ENOENT when there
/// is no such table, so the verb never claims to have removed a table that was not there.
/// </summary>
internal static class RemoveVerb
{
    public static Command Create()
    {
        var command = new Command("remove", "delete the netlinkfence table; other tables are never touched").WithPolicyTable();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            string table = PolicyTable.Resolve(parse);
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = parse.GetValue(CommonOptions.NetworkNamespace) }, cancellationToken);
            try
            {
                await nft.CommitAsync(new Transaction().DeleteTable(new Table(NftFamily.Inet, table)), cancellationToken: cancellationToken);
            }
            catch (TransactionRejectedException e) when (e.Errno == (int)Errno.NOENT)
            {
                Console.Error.WriteLine($"there was no table inet {table}; nothing to remove");
                return ExitCodes.DriftOrFindings;
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
