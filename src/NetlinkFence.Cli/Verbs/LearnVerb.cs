using System.CommandLine;
using System.Net.Sockets;
using NetlinkFence.Cli.Daemon;
using NetlinkFence.Logging;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Policy.Learning;
using NetlinkFence.Runtime;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence learn POLICY --for 10m [--audit] [--write FILE]</c>: reads the live policy's denials (NFLOG) for a
/// while, then prints the allow entries that would have let them through, as a diff of the policy file. With
/// <c>--audit</c> the denied traffic is accepted meanwhile (kernel-timed, see <see cref="AuditMode"/>).
/// </summary>
internal static class LearnVerb
{
    public static Command Create()
    {
        var policyArgument = new Argument<string>("policy") { Description = "the policy file (YAML) that is live" };
        var forOption = new Option<string>("--for") { Description = "how long to watch denials (5s, 10m, at most 24h)", Required = true };
        var audit = new Option<bool>("--audit") { Description = "meanwhile ACCEPT (and log) what the policy denies; the kernel ends it after --for even if learn is killed" };
        var write = new Option<string?>("--write") { Description = "write the merged policy to FILE (nothing is written without it)" };
        var command = new Command("learn", "watch denials for a while and suggest allow entries as a diff of the policy") { policyArgument, forOption, audit, write }.WithOutput();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            string path = parse.GetValue(policyArgument)!;
            var duration = Duration.Parse(parse.GetValue(forOption)!);
            string? netns = parse.GetValue(CommonOptions.NetworkNamespace);
            bool json = parse.GetValue(CommonOptions.Output) == "json";
            string text = File.ReadAllText(path);
            var compiled = await PolicyFiles.CompileAsync(path, checkOwnership: false, cancellationToken);
            var policy = compiled.Source.Policy;
            var notes = json ? Console.Error : Console.Out;

            var learner = new DenialLearner();
            await using (var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = netns }, cancellationToken))
            {
                if (await nft.GetTableAsync(NftFamily.Inet, policy.Table, cancellationToken) is null)
                    throw new UsageException($"table inet {policy.Table} does not exist: apply the policy first (learn reads what it denies)");
                // The reader is bound before audit starts: no audited packet goes unread.
                await using var reader = await NflogReader.OpenAsync(policy.Log.NflogGroup, netns, cancellationToken: cancellationToken);
                AuditState? state = null;
                if (parse.GetValue(audit))
                {
                    state = await StartAuditAsync(nft, netns, policy.Table, duration, cancellationToken);
                    Console.Error.WriteLine(state.Banner);
                }
                notes.WriteLine($"watching denials of table inet {policy.Table} (NFLOG group {reader.Group}) for {duration.TotalSeconds:0.#}s{(state is null ? "" : ", in AUDIT mode")}");
                var countersBefore = await UnloggedDenials.ReadAsync(nft, policy.Table, cancellationToken);
                try
                {
                    await ReadAsync(reader, learner, duration, cancellationToken);
                }
                finally
                {
                    // Ends the audit now; if this never runs (killed), the element's kernel timeout ends it anyway.
                    if (state is not null)
                    {
                        await EndAuditAsync(nft, netns, policy.Table);
                        Console.Error.WriteLine($"audit mode ended: table inet {policy.Table} enforces the policy again");
                    }
                }
                if (reader.LostInKernel + reader.DroppedSlowConsumer > 0)
                    Console.Error.WriteLine($"netlinkfence: warning: {reader.LostInKernel + reader.DroppedSlowConsumer} denial record(s) lost; the counts below are low");
                // Packets over log.rate are dropped unlogged: learn never saw them, and a destination only they went to is missing below.
                if (UnloggedDenials.Between(countersBefore, await UnloggedDenials.ReadAsync(nft, policy.Table, cancellationToken)) is > 0 and var unlogged)
                    Console.Error.WriteLine($"netlinkfence: warning: {unlogged} denied packet(s) came over log.rate meanwhile and are in no log: "
                        + "the suggestions below may miss destinations; learn again with a higher log.rate (or none) in the live policy");
            }

            var resolvers = policy.Resolvers.SelectMany(compiled.Source.NetworksOf)
                .Where(n => n.PrefixLength == n.BaseAddress.GetAddressBytes().Length * 8).Select(n => n.BaseAddress).ToList();
            var reverse = resolvers.Count == 0 ? null : new DnsHostResolver(resolvers.Select(a => new System.Net.IPEndPoint(a, 53)), netns);
            var report = await learner.SuggestAsync(compiled.Source, reverse, cancellationToken);
            var change = PolicyMerger.Merge(text, path, report.Entries);
            var newErrors = change.NewFindings.Where(f => f.Severity == Severity.Error).ToList();
            string? written = parse.GetValue(write);
            if (written is not null && newErrors.Count == 0)
                File.WriteAllText(written, change.Merged);
            Print(json, report with { Findings = [.. report.Findings.Select(f => WithOpen(f, path, netns))] }, change, written, newErrors.Count == 0);
            return newErrors.Count == 0 ? ExitCodes.Ok : ExitCodes.DriftOrFindings;
        }));
        return command;
    }

    /// <summary>
    /// Starts the audit through the daemon when one runs for the table (it owns the table, so only it may add the audit
    /// elements; in watch mode it would repair a change made by anyone else), else on the kernel directly.
    /// </summary>
    private static async Task<AuditState> StartAuditAsync(NftablesConnection nft, string? netns, string table, TimeSpan duration, CancellationToken cancellationToken)
    {
        var answer = await ControlClient.TryRequestAsync(netns, table, new ControlRequest("audit", For: $"{duration.TotalMilliseconds:0}ms"), cancellationToken);
        if (answer is not null)
        {
            if (!answer.Ok || answer.Audit is not { } audit)
                throw answer.Exit == ExitCodes.BadInput ? new UsageException($"the daemon refused the audit: {answer.Message}") : new SystemFailureException($"the daemon refused the audit: {answer.Message}");
            Console.Error.WriteLine($"audit started by the running 'netlinkfence run' daemon (pid {answer.Pid?.ToString() ?? "?"}), which owns table inet {table}");
            return new AuditState(audit.Table, audit.RemainingSeconds is { } s ? TimeSpan.FromSeconds(s) : null, audit.Ends);
        }
        try
        {
            return await AuditMode.StartAsync(nft, table, duration, cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            throw new UsageException(e.Message); // no audit set in the live table: apply again (exit 2)
        }
    }

    /// <summary>Ends the audit the way it was started: through the daemon when one answers, else on the kernel.</summary>
    private static async Task EndAuditAsync(NftablesConnection nft, string? netns, string table)
    {
        var answer = await ControlClient.TryRequestAsync(netns, table, new ControlRequest("audit-end"), CancellationToken.None);
        if (answer is null)
            await AuditMode.StopAsync(nft, table, CancellationToken.None);
        else if (!answer.Ok)
            throw new SystemFailureException($"the daemon did not end the audit: {answer.Message} (the kernel ends it when its time is up)");
    }

    /// <summary>Feeds denials to the learner until <paramref name="duration"/> has passed; Ctrl-C ends learn without suggestions.</summary>
    private static async Task ReadAsync(NflogReader reader, DenialLearner learner, TimeSpan duration, CancellationToken cancellationToken)
    {
        using var until = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        until.CancelAfter(duration);
        try
        {
            await foreach (var record in reader.ReadAsync(until.Token))
                learner.Observe(record);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>A window entry's finding, followed by the <c>open</c> that opens it on this policy and namespace.</summary>
    private static LearnFinding WithOpen(LearnFinding finding, string policyPath, string? netns) => finding.Entry is { } entry
        ? finding with { Message = $"{finding.Message}: '{SuggestedCommand.OpenWindow(entry, policyPath, netns)}'" }
        : finding;

    private static void Print(bool json, LearnReport report, PolicyChange change, string? written, bool clean)
    {
        if (json)
        {
            Output.WriteJson(w =>
            {
                w.WriteNumber("observed", report.Observed);
                w.WriteNumber("ignored", report.Ignored);
                w.WriteNumber("already_allowed", report.AlreadyAllowed);
                w.WriteStartArray("entries");
                foreach (var entry in report.Entries)
                {
                    w.WriteStartObject();
                    w.WriteString("name", entry.Name);
                    w.WriteString("name_source", entry.NameSource.ToString().ToLowerInvariant());
                    w.WriteStartArray("to");
                    foreach (string to in entry.To)
                        w.WriteStringValue(to);
                    w.WriteEndArray();
                    w.WriteStartArray("ports");
                    foreach (var port in entry.Ports)
                    {
                        w.WriteStartObject();
                        w.WriteString("protocol", port.Protocol == ProtocolType.Tcp ? "tcp" : "udp");
                        w.WriteNumber("port", port.Port);
                        w.WriteNumber("count", port.Count);
                        w.WriteString("first_seen", port.FirstSeen);
                        w.WriteString("last_seen", port.LastSeen);
                        w.WriteStartArray("cgroups");
                        foreach (string cgroup in port.Cgroups)
                            w.WriteStringValue(cgroup);
                        w.WriteEndArray();
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteStartArray("by");
                    foreach (var scope in entry.By)
                    {
                        w.WriteStartObject();
                        w.WriteString(scope.Kind.ToString().ToLowerInvariant(), scope.Value);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteNumber("unknown_cgroup", entry.UnknownCgroup);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteStartArray("findings");
                foreach (var finding in report.Findings)
                {
                    w.WriteStartObject();
                    w.WriteString("code", finding.Code);
                    w.WriteString("message", finding.Message);
                    if (finding.Entry is { } entry)
                        w.WriteString("entry", entry);
                    w.WriteNumber("count", finding.Count);
                    w.WriteString("first_seen", finding.FirstSeen);
                    w.WriteString("last_seen", finding.LastSeen);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteString("diff", change.Diff);
                if (written is not null && clean)
                    w.WriteString("written", written);
            });
        }
        else
        {
            Console.WriteLine($"{report.Observed} denial record(s): {report.Entries.Count} suggested entr{(report.Entries.Count == 1 ? "y" : "ies")}, "
                + $"{report.Findings.Count} finding(s), {report.AlreadyAllowed} already allowed, {report.Ignored} not egress tcp/udp");
            foreach (var finding in report.Findings)
                Console.WriteLine($"finding [{finding.Code}]: {finding.Count} x, first {finding.FirstSeen:u}, last {finding.LastSeen:u}: {finding.Message}");
            Console.Write(change.Diff);
            if (written is not null && clean)
                Console.WriteLine($"wrote the merged policy to {written}");
        }
        foreach (var finding in change.NewFindings)
            Console.Error.WriteLine($"new lint finding in the merged policy: {finding} [{finding.Code}]");
        if (written is not null && !clean)
            Console.Error.WriteLine($"netlinkfence: the merged policy has new lint errors; {written} was NOT written");
    }
}
