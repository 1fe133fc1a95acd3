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
            // Add-then-delete in one batch: succeeds whether or not the table exists.
            var target = new Table(NftFamily.Inet, table);
            await nft.CommitAsync(new Transaction().AddTable(target).DeleteTable(target), cancellationToken: cancellationToken);
            Console.WriteLine($"removed table inet {table}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
