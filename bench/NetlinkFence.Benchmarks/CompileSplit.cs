using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// <c>compile-split N...</c>: for the generated N-entry policy (three runs each), the whole compile next to its allow
/// set part alone (AllowSetModel from N grants, then its elements).
/// </summary>
internal static class CompileSplit
{
    public static int Run(IEnumerable<int> sizes)
    {
        foreach (int n in sizes)
        {
            var resolved = ResolvedPolicy.ResolveAsync(PolicyLoader.LoadFile(PolicyWorkload.Entries(n))).GetAwaiter().GetResult();
            var grants = Enumerable.Range(0, n).Select(i => new AllowGrant($"e{i}", new IPNetwork(IPAddress.Parse(Workload.AddressText(i)), 32), ProtocolType.Tcp, new PortRange(443, 443))).ToList();
            var set = new NftSet(NftFamily.Inet, "t", "allow_v4", [SetKeyType.Ipv4Address, SetKeyType.InetProto, SetKeyType.InetService], SetFlags.Interval | SetFlags.Timeout);
            // NLF_ALLOCATION_TYPES=1: what ten compiles allocate, by type (sampled by the runtime), before the timed runs.
            if (Environment.GetEnvironmentVariable("NLF_ALLOCATION_TYPES") == "1")
            {
                using var types = new AllocationTypes();
                types.Start();
                for (int i = 0; i < 10; i++)
                    PolicyCompiler.Compile(resolved);
                types.Print(25);
            }
            for (int run = 0; run < 3; run++)
            {
                long bytes = GC.GetAllocatedBytesForCurrentThread();
                long start = Stopwatch.GetTimestamp();
                PolicyCompiler.Compile(resolved);
                double compile = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                double compileMiB = (GC.GetAllocatedBytesForCurrentThread() - bytes) / 1048576.0;
                start = Stopwatch.GetTimestamp();
                var model = new AllowSetModel(set, grants);
                double build = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                start = Stopwatch.GetTimestamp();
                model.Elements(DateTimeOffset.UnixEpoch);
                double elements = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"entries-{n}: compile {Matrix.F(compile)} ms ({compileMiB:F1} MiB allocated); AllowSetModel {Matrix.F(build)} ms, Elements {Matrix.F(elements)} ms"));
            }
        }
        return 0;
    }
}
