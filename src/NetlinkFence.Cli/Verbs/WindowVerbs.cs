using System.CommandLine;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence open NAME [--for 10m]</c>, <c>close NAME</c> and <c>status</c>: update windows of the policy's live
/// table (<see cref="PolicyTable"/> names it). Opening is one generation-checked transaction of element additions whose
/// per-element timeouts the kernel enforces: the window closes on time whatever runs afterwards.
/// </summary>
internal static class WindowVerbs
{
    /// <summary>How the verbs reach the running policy; the daemon's client replaces the kernel-direct one.</summary>
    public static Func<TargetNamespace, EgressPolicy, string, IWindowControl> Control { get; set; } =
        (target, policy, table) => new Daemon.DaemonWindowClient(target, policy, table);

    public static Command Open()
    {
        var name = new Argument<string>("name") { Description = "the window entry (an egress entry with 'window:')" };
        var duration = new Option<string?>("--for") { Description = "how long (90s, 10m, 1h30m); default and maximum: the entry's window" };
        var command = new Command("open", "open a window entry for a bounded time; the kernel closes it again") { name, duration }.WithOutput();
        command.WithPolicyTable();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            var (policy, path, table) = PolicyTable.LoadPolicy(parse);
            string entry = parse.GetValue(name)!;
            var max = KernelWindowControl.CheckWindow(policy, entry);
            var span = parse.GetValue(duration) is { } text
                ? WindowDuration.Parse(text) ?? throw new UsageException($"--for '{text}' is not a duration; write 90s, 10m or 1h30m")
                : max;
            KernelWindowControl.CheckOpen(policy, entry, span);
            using var target = TargetNamespace.Open(parse.GetValue(CommonOptions.NetworkNamespace));
            var window = await Control(target, policy, table).OpenAsync(entry, span, cancellationToken);
            if (parse.GetValue(CommonOptions.Output) == "json")
                Output.WriteJson(w => Write(w, window));
            else
                Console.WriteLine(Opened(entry, span, window.Remaining ?? TimeSpan.Zero, CloseCommand(parse, entry, path)));
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>
    /// What an open did. Opening never shortens a window: when it stays open for longer than asked (a second's
    /// slack for the round trip), the line says so instead of reading as if --for had been taken.
    /// </summary>
    internal static string Opened(string entry, TimeSpan asked, TimeSpan remaining, string close) => remaining > asked + TimeSpan.FromSeconds(1)
        ? $"{entry}: stays open for {WindowDuration.Format(remaining)}, longer than --for {WindowDuration.Format(asked)}: opening never shortens a window ('{close}' first to shorten it)"
        : $"{entry}: open for {WindowDuration.Format(remaining)}, until {(DateTimeOffset.UtcNow + remaining).UtcDateTime:HH:mm:ss}Z (the kernel closes it then)";

    public static Command Close()
    {
        var name = new Argument<string>("name") { Description = "the window entry" };
        var command = new Command("close", "close a window entry now") { name };
        command.WithPolicyTable();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            var (policy, _, table) = PolicyTable.LoadPolicy(parse);
            string entry = parse.GetValue(name)!;
            KernelWindowControl.CheckWindow(policy, entry);
            using var target = TargetNamespace.Open(parse.GetValue(CommonOptions.NetworkNamespace));
            bool wasOpen = await Control(target, policy, table).CloseAsync(entry, cancellationToken);
            Console.WriteLine(Closed(entry, wasOpen));
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The <c>close</c> of the window <c>open</c> acted on: the same policy, namespace and table.</summary>
    private static string CloseCommand(ParseResult parse, string entry, string policyPath) =>
        SuggestedCommand.OnPolicy("close", policyPath, parse.GetValue(CommonOptions.NetworkNamespace), parse.GetValue(PolicyTable.Table), entry);

    /// <summary>What <c>close</c> says: never "closed" for a window that was not open (exit 0 either way: it is closed now).</summary>
    internal static string Closed(string entry, bool wasOpen) => wasOpen ? $"{entry}: closed" : $"{entry}: was not open; nothing to close";

    public static Command Status()
    {
        var command = new Command("status", "say what keeps the table (the daemon, another owner, nothing) and which processes can get around it or change it, then list every window entry with its remaining time, and an active audit").WithOutput();
        command.WithPolicyTable();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            var (policy, path, table) = PolicyTable.LoadPolicy(parse);
            using var target = TargetNamespace.Open(parse.GetValue(CommonOptions.NetworkNamespace));
            var (windows, audit, daemon) = await Control(target, policy, table).StatusAsync(cancellationToken);
            var holder = await ReadHolderAsync(target, table, daemon, cancellationToken);
            var (capable, unreadable) = CapableProcesses.In(target.Handle);
            var capability = new CapabilityReport(capable, unreadable, holder);
            var history = WindowRecord.LastOf(target, table);
            // Audit mode accepts what the policy denies: said first, on both streams, whatever the output format (as show does).
            if (audit is not null)
                Console.Error.WriteLine(audit.Banner);
            if (parse.GetValue(CommonOptions.Output) == "json")
            {
                Output.WriteJson(w =>
                {
                    w.WriteString("table", table);
                    holder.Write(w);
                    capability.Write(w);
                    if (audit is not null)
                        Output.WriteAudit(w, audit);
                    w.WriteStartArray("windows");
                    foreach (var window in windows)
                    {
                        w.WriteStartObject();
                        Write(w, window);
                        var last = history.GetValueOrDefault(window.Entry.Name);
                        if (last is null)
                            w.WriteNull("last_record");
                        else
                        {
                            w.WriteStartObject("last_record");
                            last.WriteJson(w);
                            w.WriteEndObject();
                        }
                        w.WriteBoolean("unrecorded_opening", window.IsOpen && last?.LeftOpen != true);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                });
                return ExitCodes.Ok;
            }
            if (audit is not null)
                Console.WriteLine($"# {audit.Banner}");
            Console.WriteLine(holder.Describe(table));
            Console.WriteLine(TableBuild.Status(holder.AppliedBy));
            foreach (string line in capability.Lines())
                Console.WriteLine(line);
            if (daemon is not null)
                Console.WriteLine(daemon.Forwarding?.Describe() ?? "forwarding: none (the policy has no log.remote)");
            if (windows.Count == 0)
                Console.WriteLine("windows: none (no allow entry of the policy has 'window:')");
            foreach (var window in windows)
                Console.WriteLine($"{window.Entry.Name}: {(window.Remaining is { } left ? $"open, {WindowDuration.Format(left)} left" : "closed")} "
                    + $"(window {WindowDuration.Format(window.Entry.Window!.Value)}, {window.Entry.Location})"
                    + (LongerThanItsWindow(window) ? $"; LONGER than its window: opened for more than the policy allows (by another process, or before "
                        + $"its window was shortened), which 'netlinkfence verify' reports; '{CloseCommand(parse, window.Entry.Name, path)}' closes it" : "")
                    + (!window.IsOpen && window.AlsoAllowedBy.Count > 0 ? $"; part of its traffic still passes, allowed by {string.Join(", ", window.AlsoAllowedBy)}" : "")
                    + History(window, history.GetValueOrDefault(window.Entry.Name)));
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The table's owner as the kernel holds it now, and the daemon that answered (read after the windows: the table was there).</summary>
    private static async Task<TableHolder> ReadHolderAsync(TargetNamespace target, string table, RunningDaemon? daemon, CancellationToken cancellationToken)
    {
        await using var nft = await target.ConnectAsync(cancellationToken);
        var live = await nft.GetTableAsync(NftFamily.Inet, table, cancellationToken)
            ?? throw new MissingTableException($"table inet {table} was removed while its windows were read");
        return TableHolder.Of(live, daemon);
    }

    /// <summary>
    /// Open for more than its <c>window:</c> allows: netlinkfence never opens a window for longer, so another process did,
    /// or the policy's window was shortened while it was open (no daemon followed the edit).
    /// </summary>
    private static bool LongerThanItsWindow(LiveWindow window) => window.Remaining > window.Entry.Window;

    /// <summary>
    /// What the window log last says of <paramref name="window"/>. An open window whose opening it does not hold was
    /// opened by a writer that records nothing (an agent embedding <c>LivePolicy</c>, or nft): said, for an auditor.
    /// </summary>
    private static string History(LiveWindow window, WindowRecord? last) => (window.IsOpen, last) switch
    {
        (true, { LeftOpen: true }) => $"; {last.Describe()}",
        (true, _) => "; its opening is NOT in the window log: a writer that records nothing opened it (an agent embedding LivePolicy, or nft)"
            + (last is null ? "" : $"; the log's last line of it: {last.Describe()}"),
        (false, { LeftOpen: true }) => $"; {last.Describe()}, and closed since without a record (its time ran out while no daemon ran, or another writer closed it)",
        (false, { } record) => $"; {record.Describe()}",
        _ => "",
    };

    private static void Write(System.Text.Json.Utf8JsonWriter w, LiveWindow window)
    {
        w.WriteString("entry", window.Entry.Name);
        w.WriteBoolean("open", window.IsOpen);
        w.WriteNumber("remaining_seconds", Math.Round(window.Remaining?.TotalSeconds ?? 0, 3));
        w.WriteNumber("window_seconds", window.Entry.Window!.Value.TotalSeconds);
        w.WriteString("location", window.Entry.Location.ToString());
        w.WriteBoolean("longer_than_window", LongerThanItsWindow(window));
        w.WriteStartArray("also_allowed_by");
        foreach (string other in window.AlsoAllowedBy)
            w.WriteStringValue(other);
        w.WriteEndArray();
    }
}
