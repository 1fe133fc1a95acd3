using System.CommandLine;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence stats</c>: what each allow entry let through (packets and bytes, summed from the allow sets'
/// per-element counters, with the entry's place in the policy file) and what each denied chain dropped.
/// </summary>
internal static class StatsVerb
{
    public static Command Create()
    {
        var prometheus = new Option<string?>("--prometheus")
        {
            Description = "write the counters, the windows, an active audit and whether the table is the policy's in Prometheus' text format to FILE, replaced atomically (for node_exporter's textfile collector; '-': standard output)",
            HelpName = "FILE",
        };
        var command = new Command("stats", "packets and bytes per allow entry and per denied chain, from the kernel's counters") { prometheus }.WithOutput();
        command.WithPolicyTable();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            string? metricsFile = parse.GetValue(prometheus);
            if (metricsFile is not null && parse.GetValue(CommonOptions.Output) == "json")
                throw new UsageException("--prometheus and --output json each choose what stats writes; give one of them");
            var (written, _, table) = PolicyTable.LoadPolicy(parse);
            using var target = TargetNamespace.Open(parse.GetValue(CommonOptions.NetworkNamespace));
            var resolved = await PolicyFiles.ResolveAsync(written with { Table = table }, target.Netns, cancellationToken);
            await using var nft = await target.ConnectAsync(cancellationToken);
            if (metricsFile is not null)
            {
                // Monitoring must see every state: a missing table or drift is written too (exit 1), not left to a stale file.
                var seen = await TableMetrics.ReadAsync(nft, PolicyCompiler.Compile(resolved), cancellationToken);
                PrometheusMetrics.Write(metricsFile, seen);
                string where = metricsFile == "-" ? "standard output" : metricsFile;
                if (!seen.Present)
                    throw new MissingTableException($"there is no table inet {table} in {target.Description}: netlinkfence filters nothing there; "
                        + $"wrote netlinkfence_table_present 0 to {where}");
                if (seen.MatchesPolicy == true)
                    return ExitCodes.Ok;
                // verify compares a policy with the table it names: for another table (--table), show is what there is.
                string look = table == written.Table
                    ? $"'{SuggestedCommand.Of("verify", target.Netns, table: null, written.Source)}' says what differs"
                    : $"'{SuggestedCommand.Of("show", target.Netns, table)}' shows what it holds";
                Console.Error.WriteLine($"netlinkfence: table inet {table} in {target.Description} is not the policy's ({written.Source}); "
                    + $"wrote netlinkfence_table_matches_policy 0 to {where}; {look}");
                return ExitCodes.DriftOrFindings;
            }
            var live = await LiveAttach.AttachAsync(nft, resolved, written.Table, target, cancellationToken);
            var metrics = await TableMetrics.ReadAsync(nft, live, cancellationToken);
            if (parse.GetValue(CommonOptions.Output) == "json")
            {
                Output.WriteJson(w =>
                {
                    w.WriteString("table", table);
                    w.WriteStartArray("entries");
                    foreach (var e in metrics.Entries)
                    {
                        w.WriteStartObject();
                        w.WriteString("entry", e.Entry.Name);
                        w.WriteString("direction", e.Input ? "input" : "egress");
                        w.WriteString("location", e.Entry.Location.ToString());
                        w.WriteNumber("packets", e.Packets);
                        w.WriteNumber("bytes", e.Bytes);
                        w.WriteNumber("elements", e.Elements);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteStartArray("denied");
                    foreach (var denied in metrics.Denied)
                    {
                        w.WriteStartObject();
                        w.WriteString("chain", denied.Chain);
                        w.WriteNumber("packets", denied.Packets);
                        w.WriteNumber("bytes", denied.Bytes);
                        if (denied.Logged is { } logged) // known whenever the table is this version's policy, which stats requires
                            w.WriteNumber("logged", logged);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                });
                return ExitCodes.Ok;
            }
            Console.WriteLine($"table inet {table}");
            foreach (var e in metrics.Entries)
                Console.WriteLine($"  {(e.Input ? "input " : "egress")} {e.Entry.Name,-24} {e.Packets,12} {Noun(e.Packets, "packet"),-7} {e.Bytes,14} {Noun(e.Bytes, "byte"),-5} "
                    + $"{e.Elements,6} {Noun((ulong)e.Elements, "element"),-8}  ({e.Entry.Location})");
            foreach (var denied in metrics.Denied)
                Console.WriteLine($"  denied {denied.Chain,-24} {denied.Packets,12} {Noun(denied.Packets, "packet"),-7} {denied.Bytes,14} {Noun(denied.Bytes, "byte"),-5}  {Logged(denied)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>How many of a denied chain's packets were logged: "12 logged, 30 over log.rate (not in any log)".</summary>
    private static string Logged(DeniedCount denied) => denied.Logged switch
    {
        null => "",
        { } logged when logged < denied.Packets => $"{logged} logged, {denied.Packets - logged} over log.rate (not in any log)",
        { } logged => $"{logged} logged",
    };

    /// <summary>The unit after a right-aligned count: "1 packet", "2 packets" (the column keeps its width).</summary>
    private static string Noun(ulong count, string noun) => count == 1 ? noun : noun + "s";
}
