using System.Diagnostics;
using System.Globalization;
using NetlinkFence.Policy;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// <c>load-split N...</c>: the policy loader's steps timed apart for the generated N-entry policy (three runs each):
/// YAML events only, YAML node tree, the whole load (tree + PolicyReader), then the linter.
/// </summary>
internal static class LoadSplit
{
    public static int Run(IEnumerable<int> sizes)
    {
        foreach (int n in sizes)
        {
            string path = PolicyWorkload.Entries(n);
            string text = File.ReadAllText(path);
            // NLF_ALLOCATION_TYPES=1: what ten whole loads allocate, by type (sampled by the runtime), before the timed runs.
            if (Environment.GetEnvironmentVariable("NLF_ALLOCATION_TYPES") == "1")
            {
                using var types = new AllocationTypes();
                types.Start();
                for (int i = 0; i < 10; i++)
                    PolicyLoader.Load(text, path);
                types.Print(60);
            }
            for (int run = 0; run < 3; run++)
            {
                long allocated = GC.GetAllocatedBytesForCurrentThread();
                long start = Stopwatch.GetTimestamp();
                var parser = new Parser(new StringReader(text));
                while (parser.MoveNext()) { }
                double events = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                long eventsBytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
                allocated = GC.GetAllocatedBytesForCurrentThread();
                start = Stopwatch.GetTimestamp();
                new YamlStream().Load(new DuplicateKeyFilter(new Parser(new StringReader(text)), path, (_, _, _, _) => { }));
                double tree = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                long treeBytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
                allocated = GC.GetAllocatedBytesForCurrentThread();
                start = Stopwatch.GetTimestamp();
                var policy = PolicyLoader.Load(text, path);
                double load = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                long loadBytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
                start = Stopwatch.GetTimestamp();
                PolicyLinter.Lint(policy);
                double lint = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"entries-{n}: YAML events {Matrix.F(events)} ms {eventsBytes >> 10} KiB, YAML tree (filtered) {Matrix.F(tree)} ms {treeBytes >> 10} KiB, "
                    + $"load (tree + reader) {Matrix.F(load)} ms {loadBytes >> 10} KiB, lint {Matrix.F(lint)} ms"));
            }
        }
        return 0;
    }
}
