using System.Diagnostics;
using System.Globalization;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// <c>phases POLICY...</c>: the steps of <c>netlinkfence apply</c> (PolicyFiles.CompileAsync + PolicyApplier.ApplyAsync),
/// timed one by one in a fresh namespace per policy, with the bytes each allocates, to show where a whole-process apply
/// spends its time.
/// </summary>
internal static class ApplyPhases
{
    public static int Run(IEnumerable<string> policies)
    {
        foreach (string path in policies)
        {
            using var ns = BenchNamespace.Create();
            var times = new List<(string, double, long)>();
            T Step<T>(string name, Func<T> f)
            {
                long allocated = GC.GetTotalAllocatedBytes(precise: true);
                long start = Stopwatch.GetTimestamp();
                T value = f();
                times.Add((name, Stopwatch.GetElapsedTime(start).TotalMilliseconds, GC.GetTotalAllocatedBytes(precise: true) - allocated));
                return value;
            }
            var policy = Step("load (YAML)", () => PolicyLoader.LoadFile(path));
            var resolved = Step("resolve", () => ResolvedPolicy.ResolveAsync(policy).GetAwaiter().GetResult());
            var compiled = Step("compile", () => PolicyCompiler.Compile(resolved));
            var expected = Step("expected contents", compiled.ToExpectedContents);
            using var connection = Step("open socket", () => NftablesConnection.Open(new() { NetworkNamespace = ns.Name }));
            uint generation = Step("get generation", () => connection.GetGenerationAsync().AsTask().GetAwaiter().GetResult());
            var before = Step("list table (before)", () => connection.ListTableAsync(compiled.Table.Family, compiled.Table.Name).AsTask().GetAwaiter().GetResult());
            Step("diff (before)", () => TableDiff.Compare(expected, before, null));
            var tx = Step("build transaction", () => compiled.ToReplaceTransaction(tableExists: before is not null));
            Step("commit", () => connection.CommitAsync(tx, new CommitOptions { ExpectedGeneration = generation }).AsTask().GetAwaiter().GetResult());
            // As PolicyApplier reads back: each dump once (a difference would be read again the careful way).
            var after = Step("list table (after)", () => connection.ListTableForComparisonAsync(compiled.Table.Family, compiled.Table.Name).AsTask().GetAwaiter().GetResult());
            Step("diff (after)", () => TableDiff.Compare(expected, after, null));
            // NLF_ALLOCATION_TYPES=1: what ten read-backs allocate, by type (sampled by the runtime).
            if (Environment.GetEnvironmentVariable("NLF_ALLOCATION_TYPES") == "1")
            {
                using var types = new AllocationTypes();
                types.Start();
                for (int i = 0; i < 10; i++)
                    connection.ListTableForComparisonAsync(compiled.Table.Family, compiled.Table.Name).AsTask().GetAwaiter().GetResult();
                Console.WriteLine("ten read-backs (list table, as apply reads it back) allocate:");
                types.Print(20);
            }
            Console.WriteLine($"{Path.GetFileName(path)}: " + string.Join(", ", times.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Item1} {Matrix.F(t.Item2)} ms {t.Item3 >> 10} KiB"))));
        }
        return 0;
    }
}
