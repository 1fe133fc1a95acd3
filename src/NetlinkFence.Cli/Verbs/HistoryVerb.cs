using System.CommandLine;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence history [ENTRY]</c>: the window log of the table in the namespace, oldest first: every open and close
/// with the uid that asked, and the changes nobody asked for by name (an apply's or a remove's close, a rollback's
/// reopen, a reload's shorten, the kernel's expire that a daemon saw). What an auditor reads for when an update window
/// let traffic through; <c>--output json</c> for a fleet's tooling.
/// </summary>
internal static class HistoryVerb
{
    public static Command Create()
    {
        var entry = new Argument<string?>("entry") { Description = "only this window entry's records", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("history", "list the recorded changes to the table's update windows (open, close, expire, ...), oldest first") { entry }
            .WithOutput().WithPolicyTable();
        command.SetAction((parse, _) => ExitCodes.Run(parse, () =>
        {
            using var target = TargetNamespace.Open(parse.GetValue(CommonOptions.NetworkNamespace));
            string table = PolicyTable.Resolve(parse);
            var records = WindowRecord.Read(target, table).Where(r => parse.GetValue(entry) is not { } only || r.Entry == only).ToList();
            if (parse.GetValue(CommonOptions.Output) == "json")
            {
                Output.WriteJson(w =>
                {
                    w.WriteString("table", table);
                    w.WriteStartArray("records");
                    foreach (var record in records)
                    {
                        w.WriteStartObject();
                        record.WriteJson(w);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                });
                return Task.FromResult(ExitCodes.Ok);
            }
            if (records.Count == 0)
                Console.Error.WriteLine($"no change to {(parse.GetValue(entry) is { } one ? $"window '{one}'" : "a window")} of table inet {table} is recorded in {target.Description} "
                    + $"(the window log, {new SafetyState(target, table, createDirectory: false).WindowLogPath})");
            foreach (var record in records)
                Console.WriteLine($"{record.Time} {record.Summary}");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }
}
