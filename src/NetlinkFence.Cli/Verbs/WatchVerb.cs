using System.CommandLine;
using System.Text;
using NetlinkFence.Cli.Watch;
using NetlinkFence.Logging;
using NetlinkFence.Logging.Syslog;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence watch [--netns NS] [--policy POLICY] [--output text|json] [--count N] [--duration 30s] [--summary 10s]</c>:
/// every denial as the kernel logs it to the policy's NFLOG group, one line each (or aggregated every
/// <c>--summary</c>), with the policy's reason when a policy is known. Ends with exit 0 on Ctrl-C/SIGTERM, after
/// <c>--count</c> denials or after <c>--duration</c>.
/// </summary>
internal static class WatchVerb
{
    /// <summary>The policy explained with when <c>--policy</c> is not given and this file exists.</summary>
    public const string DefaultPolicyPath = PolicyTable.DefaultPolicyPath;

    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1); // loss reports and summary lines between denials

    /// <summary>How long watch waits at its end for queued denials to reach the collector.</summary>
    private static readonly TimeSpan ForwardDrainTimeout = TimeSpan.FromSeconds(15);

    // A burst, or a stall of the output (a busy machine, a slow terminal), is absorbed by 50,000 records held here,
    // then by the pipe and the socket's 4 MiB queue (the reader waits rather than drops): about 3 s at 20,000 a
    // second. Beyond that the kernel drops, and the sequence gaps are printed as lost.
    private static readonly NflogReaderOptions ReaderOptions = new() { BufferCapacity = 50_000, DropWhenFull = false };

    // The shared --policy of every live-table verb (PolicyTable): here it explains each denial.
    private static Option<string?> PolicyOption => PolicyTable.Policy;

    public static Command Create()
    {
        var count = new Option<int?>("--count") { Description = "stop after this many denials" };
        var duration = new Option<string?>("--duration") { Description = "stop after this long (30s, 5m)" };
        var summary = new Option<string?>("--summary") { Description = "print aggregated lines every interval (10s) instead of one line per denial" };
        var forward = new Option<bool>("--forward") { Description = "also send every denial to the policy's log.remote collector (syslog over TLS)" };
        var group = new Option<ushort?>("--group") { Description = $"the NFLOG group (default: the policy's log.group, else {LogSettings.DefaultGroup})" };
        var command = new Command("watch", "print every denial as it happens (NFLOG), and why the policy denied it")
        {
            PolicyOption, count, duration, summary, group, forward,
        };
        command.WithOutput();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            int? limit = parse.GetValue(count);
            if (limit is <= 0)
                throw new UsageException("--count must be at least 1");
            TimeSpan? runFor = parse.GetValue(duration) is { } d ? Duration.Parse(d) : null;
            TimeSpan? every = parse.GetValue(summary) is { } s ? Duration.Parse(s) : null;
            string? policyPath = parse.GetValue(PolicyOption) ?? (File.Exists(DefaultPolicyPath) ? DefaultPolicyPath : null);
            var compiled = policyPath is null ? null : await PolicyFiles.CompileAsync(policyPath, checkOwnership: false, cancellationToken);
            ushort nflogGroup = parse.GetValue(group) ?? compiled?.Source.Policy.Log.NflogGroup ?? LogSettings.DefaultGroup;
            bool json = parse.GetValue(CommonOptions.Output) == "json";

            await using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = false };
            var sinks = new List<IDenialSink> { every is { } interval ? new DenialSummary(stdout, json, interval) : new DenialPrinter(stdout, json) };
            try
            {
                if (parse.GetValue(forward))
                {
                    var remote = compiled?.Source.Policy.Log.Remote
                        ?? throw new UsageException(compiled is null ? "--forward needs a policy (--policy) with log.remote" : $"--forward: {policyPath} has no log.remote");
                    var options = SyslogTlsOptions.FromPolicy(remote) with
                    {
                        // From the namespace the policy guards: the forwarder is subject to the policy it reports for.
                        NetworkNamespace = parse.GetValue(CommonOptions.NetworkNamespace),
                        Log = message => Console.Error.WriteLine($"netlinkfence: forward: {message}"),
                        HeartbeatState = token => HeartbeatState.ReadAsync(compiled, parse.GetValue(CommonOptions.NetworkNamespace), token),
                    };
                    var forwarder = await SyslogTlsForwarder.StartAsync(options, cancellationToken);
                    UnloggedReporter? unlogged;
                    try
                    {
                        unlogged = await UnloggedReporter.StartAsync(forwarder, options.NetworkNamespace, () => compiled.Table.Name, options.Log, cancellationToken);
                    }
                    catch
                    {
                        await forwarder.DisposeAsync();
                        throw;
                    }
                    sinks.Add(new ForwardingSink(forwarder, Console.Error, ForwardDrainTimeout, unlogged: unlogged));
                }
                await using var reader = await NflogReader.OpenAsync(nflogGroup, parse.GetValue(CommonOptions.NetworkNamespace), ReaderOptions, cancellationToken);
                var explainer = compiled is null ? null : new DenialExplainer(compiled, policyPath!, parse.GetValue(CommonOptions.NetworkNamespace));
                await using var counters = compiled is null ? null : await NftablesConnection.OpenAsync(new() { NetworkNamespace = parse.GetValue(CommonOptions.NetworkNamespace) }, cancellationToken);
                var before = counters is null ? null : await UnloggedDenials.TryReadAsync(counters, compiled!.Table.Name, cancellationToken);
                // Said once everything is in place (the group bound, the unlogged baseline read): from here on nothing is missed.
                Console.Error.WriteLine($"netlinkfence: watching NFLOG group {nflogGroup}" + (policyPath is null ? "" : $", explained with {policyPath}"));
                await RunAsync(reader.ReadAsync(cancellationToken), () => (reader.LostInKernel, reader.DroppedSlowConsumer), explainer is null ? null : explainer.Explain,
                    sinks, stdout, limit, runFor, cancellationToken);
                if (counters is not null)
                    await WarnOfUnloggedAsync(counters, compiled!.Table.Name, before);
            }
            finally
            {
                foreach (var sink in sinks)
                    await sink.DisposeAsync(); // the forwarder closes its TLS connection
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>
    /// Says on standard error how many denied packets came over <c>log.rate</c> while watch ran: they are in no log,
    /// so no line above stands for them. Read after a Ctrl-C too (not with the cancelled token), for at most 5 s.
    /// </summary>
    private static async Task WarnOfUnloggedAsync(NftablesConnection nft, string table, UnloggedDenials? before)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        if (UnloggedDenials.Between(before, await UnloggedDenials.TryReadAsync(nft, table, timeout.Token)) is > 0 and var unlogged)
            Console.Error.WriteLine($"netlinkfence: warning: {unlogged} denied packet(s) came over log.rate meanwhile and are in no log: no line above stands for them");
    }

    /// <summary>
    /// Hands each record of <paramref name="denials"/> to every sink until <paramref name="limit"/> records,
    /// <paramref name="runFor"/> or cancellation (which ends it normally); reports losses when they grow. Each record
    /// is explained by <paramref name="explain"/> (watch: its policy; the daemon: the policy running now).
    /// </summary>
    internal static async Task RunAsync(IAsyncEnumerable<DenialRecord> denials, Func<(long Kernel, long Dropped)> losses,
        Func<DenialRecord, DenialExplanation>? explain, IReadOnlyList<IDenialSink> sinks, TextWriter output, int? limit, TimeSpan? runFor, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (runFor is { } d)
            stop.CancelAfter(d);
        var token = stop.Token;
        (long Kernel, long Dropped) reported = (0, 0);
        int seen = 0;
        var records = denials.GetAsyncEnumerator(token);
        Task<bool>? next = null;
        try
        {
            Task tick = Task.Delay(Tick, token);
            while (seen < (limit ?? int.MaxValue))
            {
                next ??= records.MoveNextAsync().AsTask();
                if (!next.IsCompleted)
                {
                    await output.FlushAsync(CancellationToken.None); // print what is held before waiting
                    if (await Task.WhenAny(next, tick) == tick)
                    {
                        if (tick.IsCanceled)
                            break;
                        tick = Task.Delay(Tick, token);
                        reported = await ReportLossesAsync(losses(), reported, sinks, token);
                        foreach (var summary in sinks.OfType<DenialSummary>())
                            await summary.TickAsync(token);
                        continue;
                    }
                }
                bool more = await next;
                next = null;
                if (!more)
                    break;
                var record = records.Current;
                var explanation = explain?.Invoke(record);
                foreach (var sink in sinks)
                    await sink.WriteAsync(record, explanation, token);
                seen++;
                reported = await ReportLossesAsync(losses(), reported, sinks, token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Ctrl-C, SIGTERM or --duration: a normal end
        }
        finally
        {
            stop.Cancel(); // a wait still pending ends, so the enumerator can be disposed
            try
            {
                if (next is not null)
                    await next;
            }
            catch (OperationCanceledException)
            {
            }
            await records.DisposeAsync();
        }
        await ReportLossesAsync(losses(), reported, sinks, CancellationToken.None);
        foreach (var sink in sinks)
            await sink.CompleteAsync(CancellationToken.None);
        await output.FlushAsync(CancellationToken.None);
    }

    private static async Task<(long, long)> ReportLossesAsync((long Kernel, long Dropped) now, (long Kernel, long Dropped) reported,
        IReadOnlyList<IDenialSink> sinks, CancellationToken cancellationToken)
    {
        if (now == reported)
            return reported;
        foreach (var sink in sinks)
            await sink.LostAsync(now.Kernel - reported.Kernel, now.Dropped - reported.Dropped, cancellationToken);
        return now;
    }
}
