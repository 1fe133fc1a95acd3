using System.Diagnostics;
using System.Globalization;
using System.Text;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// A paired A/B measurement of the library against the kernel floor, for the "at most 5 % over the floor"
/// target. BenchmarkDotNet measures each case in its own block of time, so on a 2-vCPU VM a slow minute can
/// land on one case only. Here floor and library commits of the same batch alternate (ABBA order) in one
/// namespace, and medians are compared; encoding alone is timed in the same process for the breakdown.
/// Each timed call is followed by an untimed settle (see <see cref="Time"/>), like tools/anchor-bench's SETTLE_MS.
/// </summary>
internal static class Paired
{
    public static int Run(string? output)
    {
        var cases = new (string Name, int Count, Func<Transaction> Build, int Rounds, Func<Transaction>? Preload, Transaction? Undo)[]
        {
            ("rules", 10, () => Workload.ReplaceWithRules(10), 201, null, null),
            ("rules", 1_000, () => Workload.ReplaceWithRules(1_000), 41, null, null),
            ("rules", 10_000, () => Workload.ReplaceWithRules(10_000), 21, null, null),
            ("set elements", 10_000, () => Workload.ReplaceWithSet(10_000), 101, null, null),
            ("set elements", 100_000, () => Workload.ReplaceWithSet(100_000), 31, null, null),
            // Into a preloaded 100k hash set; every timed add is undone (untimed) before the next one.
            ("add 1 element to 100k hash set", 1, Workload.AddOneHashElement, 301, () => Workload.ReplaceWithSet(100_000),
                new Transaction().DeleteElements(Workload.ConcatHashSet, [Workload.NewHashElement])),
            // The same, committed as LivePolicy commits (opening a window, adding an address): generation-checked, so
            // the generation after is the expected one plus one and no GETGEN follows. The floor replays the same
            // batch without the check (the kernel's work is the same); the expected generation is read untimed.
            ("add 1 element to 100k hash set, generation-checked", 1, Workload.AddOneHashElement, 301, () => Workload.ReplaceWithSet(100_000),
                new Transaction().DeleteElements(Workload.ConcatHashSet, [Workload.NewHashElement])),
        };
        var text = new StringBuilder();
        text.AppendLine("| case | N | rounds | batch bytes | floor median (ms) | library median (ms) | library / floor (medians) | floor min (ms) | library min (ms) | library / floor (mins) | encode median (ms) | encode / floor | rest = library - floor - encode (ms) | floor + marker median (ms) | marker alone median (ms) |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        Console.Write(text);
        // NLF_PAIRED_CASE="add 1" runs only the cases whose name contains it.
        string? only = Environment.GetEnvironmentVariable("NLF_PAIRED_CASE");
        foreach (var (name, count, build, rounds, preload, undo) in cases.Where(c => string.IsNullOrEmpty(only) || c.Name.Contains(only, StringComparison.Ordinal)))
        {
            string row = Measure(name, count, build(), rounds, preload?.Invoke(), undo, checkGeneration: name.EndsWith("generation-checked", StringComparison.Ordinal));
            Console.WriteLine(row);
            text.AppendLine(row);
        }
        if (output is not null)
            File.WriteAllText(output, text.ToString());
        return 0;
    }

    private static string Measure(string name, int count, Transaction transaction, int rounds, Transaction? preload, Transaction? undoTransaction, bool checkGeneration)
    {
        using var ns = BenchNamespace.Create();
        using var connection = NftablesConnection.Open(new() { NetworkNamespace = ns.Name });
        using var raw = new RawBatch(transaction, ns.Name, asChecked: checkGeneration);
        using var batch = new BatchBuffer();
        int[] map = new int[64];
        if (preload is not null)
            connection.CommitAsync(preload).GetAwaiter().GetResult();
        using var undo = undoTransaction is null ? null : new RawBatch(undoTransaction, ns.Name);
        void Undo() => undo?.Commit();
        // The timed library commit; a checked one reads the generation it expects first (untimed).
        Action Library()
        {
            var options = checkGeneration ? new CommitOptions { ExpectedGeneration = connection.GetGeneration() } : null;
            return () => connection.CommitAsync(transaction, options).GetAwaiter().GetResult();
        }

        var floor = new double[rounds];
        var library = new double[rounds];
        var encode = new double[rounds];
        var marked = new double[rounds];
        var markerAlone = new double[rounds];
        for (int i = 0; i < 3; i++)
        {
            raw.Commit();
            Undo();
            connection.CommitAsync(transaction).GetAwaiter().GetResult();
            Undo();
            TransactionEncoder.Encode(transaction, batch, 1, null, ref map);
        }
        for (int r = 0; r < rounds; r++)
        {
            if (r % 2 == 0)
            {
                floor[r] = Time(raw.Commit);
                Undo();
                library[r] = Time(Library());
                Undo();
            }
            else
            {
                library[r] = Time(Library());
                Undo();
                floor[r] = Time(raw.Commit);
                Undo();
            }
            encode[r] = Time(() => TransactionEncoder.Encode(transaction, batch, 1, null, ref map));
            marked[r] = Time(raw.CommitWithMarker);
            Undo();
            markerAlone[r] = Time(raw.MarkerRoundTrip);
        }
        double f = Matrix.Median(floor), l = Matrix.Median(library), e = Matrix.Median(encode), fMin = floor.Min(), lMin = library.Min();
        return string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {count:N0} | {rounds} | {raw.Length:N0} | {f:0.000} | {l:0.000} | {l / f:0.000} | {fMin:0.000} | {lMin:0.000} | {lMin / fMin:0.000} | {e:0.000} | {e / f:0.000} | {l - f - e:0.000} | {Matrix.Median(marked):0.000} | {Matrix.Median(markerAlone):0.000} |");
    }

    /// <summary>
    /// Times one call, then lets the kernel's deferred destroy work (the replaced table's objects, freed by a
    /// kworker after an RCU grace period) finish before the next timed call, so it never competes with it
    /// on the 2 vCPUs: untimed sleep of 5 ms + the call's own duration.
    /// </summary>
    // NLF_PAIRED_SETTLE_MS=0 times back-to-back calls (warm caches): the difference from the default shows what
    // coldness costs each side.
    private static readonly int SettleMilliseconds =
        int.TryParse(Environment.GetEnvironmentVariable("NLF_PAIRED_SETTLE_MS"), out int settle) ? settle : 5;

    private static double Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        double elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (SettleMilliseconds > 0)
            Thread.Sleep(TimeSpan.FromMilliseconds(SettleMilliseconds + elapsed));
        return elapsed;
    }

}
