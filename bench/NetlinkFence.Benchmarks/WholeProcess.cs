using System.Globalization;
using System.Text;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// <c>process [FILE]</c>: whole-process comparison, each run in a fresh network namespace, interleaved:
/// <c>netlinkfence apply POLICY --netns NS</c> (NativeAOT binary from <c>NLF_AOT</c> when set, and
/// <c>dotnet NetlinkFence.Cli.dll</c> from <c>NLF_CLI</c>) against <c>ip netns exec NS nft -f PLAN</c>, where PLAN
/// is what <c>netlinkfence plan POLICY</c> prints. Apply does everything the verb does: load, resolve, compile,
/// read the generation and the live table, commit with the generation check, read the table back and compare.
/// </summary>
internal static class WholeProcess
{
    private sealed record Method(string Name, Func<string, string, string[]> Command)
    {
        public Dictionary<string, List<double>> Times { get; } = [];
        public HashSet<string> TimedOut { get; } = [];

        /// <summary>Median in ms, or +infinity when it was killed at the time limit.</summary>
        public double Median(string label) => Times.TryGetValue(label, out var list) && list.Count > 0 ? Matrix.Median(list) : double.PositiveInfinity;

        public string Cell(string label) => Times.TryGetValue(label, out var list) && list.Count > 0
            ? $"{Matrix.F(Matrix.Median(list))} (min {Matrix.F(list.Min())})"
            : $"> {Matrix.NftTimeout.TotalSeconds:0} s (killed)";
    }

    private static string? _stateDirectory;

    /// <param name="only">When set, only the cases whose label contains it (e.g. <c>entries</c>).</param>
    public static int Run(string root, string? output, int scale, string? only = null)
    {
        // apply keeps rollback state per namespace; the bench's namespaces are thrown away, and their state with them,
        // never left in the host's /run/netlinkfence (a run of .ci/run beside the bench checks that directory). The
        // state goes on a tmpfs, as /run is on a host: on a disk, the two fsyncs of each apply's state files cost 2-4 ms
        // (a test machine whose /tmp and /run are on ext4), which an apply to /run/netlinkfence never pays.
        var state = Directory.Exists("/dev/shm")
            ? Directory.CreateDirectory(Path.Combine("/dev/shm", $"nlfbench-state-{Environment.ProcessId}"))
            : Directory.CreateTempSubdirectory("nlfbench-state-");
        _stateDirectory = state.FullName;
        Environment.SetEnvironmentVariable("NETLINKFENCE_STATE_DIR", state.FullName);
        try
        {
            return Measure(root, output, scale, only);
        }
        finally
        {
            state.Delete(recursive: true);
        }
    }

    private static int Measure(string root, string? output, int scale, string? only)
    {
        var (cli, prefix) = PolicyWorkload.Cli();
        var methods = new List<Method>();
        string? aot = Environment.GetEnvironmentVariable("NLF_AOT");
        if (aot is not null)
            methods.Add(new Method("netlinkfence apply (NativeAOT)", (policy, ns) => [aot, "apply", policy, "--netns", ns]));
        methods.Add(new Method($"{Path.GetFileName(cli)} {string.Join(' ', prefix.Select(Path.GetFileName))} apply".Trim(),
            (policy, ns) => [cli, .. prefix, "apply", policy, "--netns", ns]));
        var nft = new Method("ip netns exec NS nft -f PLAN", (plan, ns) => ["ip", "netns", "exec", ns, "nft", "-f", plan]);
        methods.Add(nft);
        var execTrue = new Method("ip netns exec NS true", (_, ns) => ["ip", "netns", "exec", ns, "true"]);
        methods.Add(execTrue);

        var cases = new List<(string Label, string Policy, string Plan, int Runs)>();
        foreach (var (label, path, runs) in new[]
        {
            ("1,000 destinations (1 entry)", PolicyWorkload.Destinations(1_000), 11),
            ("100,000 destinations (1 entry)", PolicyWorkload.Destinations(100_000), 5),
            ("examples/ironclaw-agent.yaml", PolicyWorkload.Example(root), 11),
            // One destination per entry: with one allow set per family the kernel work no longer grows per entry.
            ("1,000 entries x 1 destination", PolicyWorkload.Entries(1_000), 11),
            ("10,000 entries x 1 destination", PolicyWorkload.Entries(10_000), 5),
        }.Where(c => only is null || c.Item1.Contains(only, StringComparison.Ordinal)))
            cases.Add((label, path, PolicyWorkload.PlanFile(path), Math.Max(3, runs / scale)));

        // Untimed warm-up: page cache for the binaries, the files and the runtime.
        foreach (var m in methods)
            Once(m, cases[0].Policy, cases[0].Plan, m == nft ? cases[0].Plan : cases[0].Policy, record: null);

        int rounds = cases.Max(c => c.Runs);
        for (int r = 0; r < rounds; r++)
        {
            foreach (var c in cases.Where(c => r < c.Runs))
            {
                for (int k = 0; k < methods.Count; k++)
                {
                    var m = methods[(k + r) % methods.Count];
                    Once(m, c.Policy, c.Plan, m == nft ? c.Plan : c.Policy, record: c.Label);
                }
            }
            Console.Error.Write($"\rprocess: round {r + 1}/{rounds}");
        }
        Console.Error.WriteLine();

        var text = new StringBuilder();
        text.Append("| policy | runs |");
        foreach (var m in methods)
            text.Append($" {m.Name} median (ms) |");
        foreach (var m in methods.Where(m => m != nft && m != execTrue))
            text.Append($" {m.Name} / nft -f |");
        text.AppendLine();
        text.Append("| --- | ---: |").Append(string.Concat(Enumerable.Repeat(" ---: |", methods.Count + methods.Count - 2))).AppendLine();
        foreach (var c in cases)
        {
            text.Append($"| {c.Label} | {c.Runs} |");
            foreach (var m in methods)
                text.Append(' ').Append(m.Cell(c.Label)).Append(" |");
            double n = nft.Median(c.Label);
            foreach (var m in methods.Where(m => m != nft && m != execTrue))
            {
                double ratio = m.Median(c.Label) / (double.IsInfinity(n) ? Matrix.NftTimeout.TotalMilliseconds : n);
                text.Append(' ').Append(double.IsInfinity(n) ? "< " : "").Append(ratio.ToString("0.0000", CultureInfo.InvariantCulture)).Append(" |");
            }
            text.AppendLine();
        }
        Console.Write(text);
        if (output is not null)
            File.WriteAllText(output, text.ToString());
        return 0;
    }

    private static void Once(Method m, string policy, string plan, string input, string? record)
    {
        using var ns = BenchNamespace.Create();
        string[] command = m.Command(input, ns.Name);
        Thread.Sleep(50);
        // stdout captured (apply prints a summary), so both sides pay the same pipe.
        if (record is not null && m.TimedOut.Contains(record))
            return; // once over the limit, not again
        double elapsed;
        try
        {
            elapsed = Matrix.Time(() => BenchNamespace.Run(command[0], command[1..], captureOutput: true, Matrix.NftTimeout));
        }
        catch (TimeoutException) when (record is not null)
        {
            m.TimedOut.Add(record);
            Console.Error.WriteLine($"\nprocess: {m.Name} for '{record}' killed after {Matrix.NftTimeout.TotalSeconds} s");
            return;
        }
        // Untimed: the state the run left goes with its namespace. Otherwise every apply would find the state of the
        // previous run's vanished namespace and walk /proc to make sure it is gone (StateCleanup), which a host applying
        // to its own namespace does once after a namespace it applied to vanished, not on every apply.
        foreach (string file in Directory.EnumerateFiles(_stateDirectory!))
            File.Delete(file);
        if (record is not null)
        {
            if (!m.Times.TryGetValue(record, out var list))
                m.Times[record] = list = [];
            list.Add(elapsed);
        }
    }
}
