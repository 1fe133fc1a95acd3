using System.CommandLine;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary><c>netlinkfence show</c>: the live table, decoded from the kernel, in nft syntax with counters.</summary>
internal static class ShowVerb
{
    public static Command Create()
    {
        var command = new Command("show", "print the live netlinkfence table, decoded from the kernel, in nft syntax with counters").WithPolicyTable().WithOutput();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            string table = PolicyTable.Resolve(parse);
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = parse.GetValue(CommonOptions.NetworkNamespace) }, cancellationToken);
            var live = await nft.ListTableAsync(NftFamily.Inet, table, cancellationToken);
            if (live is null)
                throw new MissingTableException($"table inet {table} does not exist (nothing applied, or removed)");
            string text = Rendering.Renderer.Render(live);
            // Audit mode accepts what the policy denies: say so first, on both streams, whatever the output format.
            var audit = Policy.AuditMode.FromContents(live, DateTimeOffset.UtcNow);
            if (audit is not null)
                Console.Error.WriteLine(audit.Banner);
            if (parse.GetValue(CommonOptions.Output) == "json")
                Output.WriteJson(w =>
                {
                    w.WriteString("table", table);
                    w.WriteNumber("generation", live.Generation);
                    w.WriteString("applied_by", live.Table.Comment); // the build that wrote the table; null when it names none
                    w.WriteNumber("rules", live.Rules.Count);
                    w.WriteString("ruleset", text);
                    if (audit is not null)
                        Output.WriteAudit(w, audit);
                });
            else
                Console.Write((audit is null ? "" : $"# {audit.Banner}\n") + text);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
