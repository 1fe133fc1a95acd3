using System.CommandLine;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary><c>netlinkfence show</c>: the live table, decoded from the kernel, in nft syntax with counters.</summary>
internal static class ShowVerb
{
    public static Command Create()
    {
        var command = new Command("show", "print the live netlinkfence table, decoded from the kernel, in nft syntax with counters").WithPolicyTable();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(async () =>
        {
            string table = PolicyTable.Resolve(parse);
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = parse.GetValue(CommonOptions.NetworkNamespace) }, cancellationToken);
            var live = await nft.ListTableAsync(NftFamily.Inet, table, cancellationToken);
            if (live is null)
            {
                Console.Error.WriteLine($"netlinkfence: table inet {table} does not exist (nothing applied, or removed)");
                return ExitCodes.DriftOrFindings;
            }
            string text = Rendering.Renderer.Render(live);
            if (parse.GetValue(CommonOptions.Output) == "json")
                Output.WriteJson(w =>
                {
                    w.WriteString("table", table);
                    w.WriteNumber("generation", live.Generation);
                    w.WriteNumber("rules", live.Rules.Count);
                    w.WriteString("ruleset", text);
                });
            else
                Console.Write(text);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
