using System.Diagnostics;
using System.Globalization;
using System.Text;
using NetlinkFence.Nftables;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// <c>matrix [FILE]</c>: commit latency of every case of the issue, each timed commit in a <b>fresh network
/// namespace</b>, with the three ways side by side in the same run: <c>floor</c> (the library's pre-encoded
/// bytes, one raw sendmsg + drain), <c>library</c> (<see cref="NftablesConnection.CommitAsync"/>: encode + send
/// + GETGEN marker) and <c>nft</c> (<c>ip netns exec NS nft -f FILE</c> of the equivalent ruleset, for policies
/// exactly what <c>netlinkfence plan</c> prints; <c>nft add element</c> for the one-element cases).
/// Rounds interleave all cases and methods (rotating the method order), so a slow period of the VM is spread
/// over every row, as tools/anchor-bench does. Socket open, namespace creation, any preload and a 50 ms settle
/// are untimed.
/// </summary>
internal static class Matrix
{
    private sealed record Case(string Group, string Label, int Runs, Transaction Transaction, string[] NftArguments, Transaction? Preload)
    {
        public byte[] Bytes { get; } = RawBatch.Encode(Transaction);
        public byte[]? PreloadBytes { get; } = Preload is null ? null : RawBatch.Encode(Preload);
        public List<double> Floor { get; } = [];
        public List<double> Library { get; } = [];
        public List<double> Nft { get; } = [];
        public bool NftTimedOut { get; set; }
    }

    /// <summary>nft 1.0.6 takes minutes on large concatenated interval sets (superlinear in userspace); it is stopped here.</summary>
    public static readonly TimeSpan NftTimeout = TimeSpan.FromSeconds(60);

    public static int Run(string root, string? output, int scale)
    {
        // NLF_MATRIX_GROUP="add 1 element" (a group name) runs just that group, for a focused re-measurement.
        var cases = Build(root, scale, Environment.GetEnvironmentVariable("NLF_MATRIX_GROUP") is { Length: > 0 } group ? group : null);
        var startup = new List<double>();
        int rounds = cases.Max(c => c.Runs);
        // Warm up the JIT and every code path (untimed): one run of each method for each case under 1 MB of batch.
        foreach (var c in cases.Where(c => c.Bytes.Length < 1 << 20))
            Once(c, 0, record: false);
        for (int r = 0; r < rounds; r++)
        {
            foreach (var c in cases)
            {
                if (r < c.Runs)
                    Once(c, r, record: true);
            }
            using var ns = BenchNamespace.Create();
            startup.Add(Time(() => BenchNamespace.Run("ip", "netns", "exec", ns.Name, "true")));
            Console.Error.Write($"\rmatrix: round {r + 1}/{rounds}");
        }
        Console.Error.WriteLine();

        var text = new StringBuilder();
        text.AppendLine("| group | case | runs | batch bytes | floor median (ms) | library median (ms) | nft median (ms) | library / floor | library / nft | floor / nft | floor min | library min | nft min |");
        text.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var c in cases)
        {
            double f = Median(c.Floor), l = Median(c.Library);
            string nft, nftMin, libNft, floorNft;
            if (c.NftTimedOut || c.Nft.Count == 0)
            {
                double limit = NftTimeout.TotalMilliseconds;
                (nft, nftMin) = ($"> {limit / 1000:0} s (killed)", "-");
                (libNft, floorNft) = ($"< {l / limit:0.0000}", $"< {f / limit:0.0000}");
            }
            else
            {
                double n = Median(c.Nft);
                (nft, nftMin) = (F(n), F(c.Nft.Min()));
                (libNft, floorNft) = ((l / n).ToString("0.000", CultureInfo.InvariantCulture), (f / n).ToString("0.000", CultureInfo.InvariantCulture));
            }
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {c.Group} | {c.Label} | {c.Runs} | {c.Bytes.Length:N0} | {F(f)} | {F(l)} | {nft} | {l / f:0.000} | {libNft} | {floorNft} | {F(c.Floor.Min())} | {F(c.Library.Min())} | {nftMin} |"));
        }
        text.AppendLine();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"`ip netns exec NS true` (part of every nft figure): median {F(Median(startup))} ms, min {F(startup.Min())} ms over {startup.Count} runs."));
        Console.Write(text);
        if (output is not null)
            File.WriteAllText(output, text.ToString());
        return 0;
    }

    private static List<Case> Build(string root, int scale, string? onlyGroup)
    {
        int Runs(int n) => Math.Max(3, n / scale);
        bool Wanted(string group) => onlyGroup is null || onlyGroup == group;
        var cases = new List<Case>();
        void Policy(string group, string label, string path, int runs)
        {
            if (!Wanted(group))
                return; // before PlanFile: policy cases need the CLI
            string plan = PolicyWorkload.PlanFile(path);
            cases.Add(new Case(group, label, runs, PolicyWorkload.Transaction(path), ["-f", plan], null));
        }
        string TextFile(string name, string text)
        {
            string file = Path.Combine(PolicyWorkload.Directory, name + ".nft");
            File.WriteAllText(file, text);
            return file;
        }

        foreach (int n in new[] { 10, 100, 1_000, 10_000 })
            Policy("policy replace", $"{n:N0} allow entries x 1 destination", PolicyWorkload.Entries(n), n >= 10_000 ? Runs(5) : Runs(11));
        foreach (int n in new[] { 1_000, 100_000 })
            Policy("policy replace", $"1 allow entry x {n:N0} destinations", PolicyWorkload.Destinations(n), n >= 100_000 ? Runs(5) : Runs(11));
        Policy("policy replace", "examples/ironclaw-agent.yaml", PolicyWorkload.Example(root), Runs(11));
        foreach (int n in new[] { 1_000, 10_000, 100_000 })
            cases.Add(new Case("1 rule + set", $"{n:N0}-element ipv4_addr . inet_service set", n >= 100_000 ? Runs(5) : Runs(11),
                Workload.ReplaceWithSet(n), ["-f", TextFile($"set-{n}", Workload.ReplaceWithSetText(n))], null));
        const int Big = 100_000;
        cases.Add(new Case("add 1 element", "to a 100,000-element hash set (ipv4_addr . inet_service)", Runs(7),
            Workload.AddOneHashElement(), ["add", "element", "inet", Workload.TableName, Workload.SetName, "{ " + Workload.NewHashElementText + " }"],
            Workload.ReplaceWithSet(Big)));
        cases.Add(new Case("add 1 element", "to a 100,000-element interval set (ipv4_addr, flags interval)", Runs(7),
            Workload.AddOneIntervalElement(), ["add", "element", "inet", Workload.TableName, Workload.IntervalSetName, "{ " + Workload.NewIntervalElementText + " }"],
            Workload.ReplaceWithIntervalSet(Big)));
        return cases.Where(c => Wanted(c.Group)).ToList();
    }

    /// <summary>One run of each method for <paramref name="c"/>, each in its own fresh namespace; the order rotates with the round.</summary>
    private static void Once(Case c, int round, bool record)
    {
        for (int k = 0; k < 3; k++)
        {
            int method = (k + round) % 3;
            using var ns = BenchNamespace.Create();
            if (c.PreloadBytes is not null)
            {
                using var preload = new RawBatch(c.PreloadBytes, ns.Name);
                preload.Commit();
            }
            double elapsed;
            switch (method)
            {
                case 0:
                {
                    using var raw = new RawBatch(c.Bytes, ns.Name);
                    Settle();
                    elapsed = Time(raw.Commit);
                    if (record) c.Floor.Add(elapsed);
                    break;
                }
                case 1:
                {
                    using var connection = NftablesConnection.Open(new() { NetworkNamespace = ns.Name });
                    Settle();
                    elapsed = Time(() => connection.CommitAsync(c.Transaction).GetAwaiter().GetResult());
                    if (record) c.Library.Add(elapsed);
                    break;
                }
                default:
                {
                    if (c.NftTimedOut)
                        break; // once over the limit, not again (it would only eat the time budget)
                    Settle();
                    try
                    {
                        elapsed = Time(() => ns.Nft(NftTimeout, c.NftArguments));
                        if (record) c.Nft.Add(elapsed);
                    }
                    catch (TimeoutException)
                    {
                        c.NftTimedOut = true;
                        Console.Error.WriteLine($"\nmatrix: nft for '{c.Label}' killed after {NftTimeout.TotalSeconds} s");
                    }
                    break;
                }
            }
        }
    }

    /// <summary>Lets deferred kernel work of the namespace setup / preload finish before the timed call.</summary>
    private static void Settle() => Thread.Sleep(50);

    internal static double Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    internal static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    internal static string F(double ms) => ms switch
    {
        < 1 => ms.ToString("0.000", CultureInfo.InvariantCulture),
        < 100 => ms.ToString("0.00", CultureInfo.InvariantCulture),
        _ => ms.ToString("0.0", CultureInfo.InvariantCulture),
    };
}
