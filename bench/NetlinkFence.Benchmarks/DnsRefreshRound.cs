using System.Diagnostics;
using System.Net;
using NetlinkFence.Policy;
using NetlinkFence.Runtime;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// <c>dns-refresh [NAMES] [ROUNDS]</c>: the CPU one refresh round costs. A fresh namespace runs Debian's dnsmasq on
/// its loopback, answering NAMES names (two A records each, TTL 30 s) from a hosts file; a <see cref="DnsRefresher"/>
/// over <see cref="DnsHostResolver"/> (queries made from inside the namespace, A and AAAA per name) refreshes them
/// all each round, its clock moved by hand past the TTL, handing every answer to a sink that only counts. This
/// process's CPU time (all threads, user + system) is read around each round; dnsmasq's own CPU is not counted.
/// </summary>
internal static class DnsRefreshRound
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    public static int Run(int names, int rounds)
    {
        using var ns = BenchNamespace.Create();
        BenchNamespace.Run("ip", "-n", ns.Name, "link", "set", "lo", "up");
        string directory = Directory.CreateTempSubdirectory("nlf-dns-bench-").FullName;
        string hosts = Path.Combine(directory, "hosts");
        File.WriteAllLines(hosts, Enumerable.Range(0, names).SelectMany(i => new[] { $"10.{i / 250}.{i % 250}.1 n{i}.bench.test", $"10.{i / 250}.{i % 250}.2 n{i}.bench.test" }));
        var dnsmasq = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", ns.Name, "/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
            "--conf-file=/dev/null", $"--addn-hosts={hosts}", "--local-ttl=30", "--port=53", "--bind-interfaces", "--listen-address=127.0.0.1",
            "--user=root", "--pid-file=", "--cache-size=10000", "--dns-forward-max=1000"]) { RedirectStandardError = true })!;
        try
        {
            var builder = new PolicyBuilder().Resolvers("127.0.0.1").AllowEgress("fleet", to: Enumerable.Range(0, names).Select(i => $"n{i}.bench.test"), tcp: [443]);
            var policy = builder.Build();
            var resolver = new DnsHostResolver([new IPEndPoint(IPAddress.Loopback, 53)], ns.Name, TimeSpan.FromSeconds(2));
            WaitForDnsmasq(resolver);
            var resolved = ResolvedPolicy.ResolveAsync(policy, resolver).GetAwaiter().GetResult();
            var clock = new Clock();
            long handed = 0;
            var refresher = new DnsRefresher(resolved, resolver, (_, addresses, _) => { handed += addresses.Count; return Task.CompletedTask; }, clock,
                line => Console.Error.WriteLine(line));
            var cpu = new List<double>();
            var wall = new List<double>();
            var allocated = new List<long>();
            for (int round = -2; round < rounds; round++) // two warm-up rounds
            {
                var process = Process.GetCurrentProcess();
                var cpuBefore = process.TotalProcessorTime;
                long bytesBefore = GC.GetTotalAllocatedBytes(precise: true);
                var stopwatch = Stopwatch.StartNew();
                int answered = refresher.RefreshDueAsync().GetAwaiter().GetResult();
                stopwatch.Stop();
                process.Refresh();
                if (answered != names)
                    throw new InvalidOperationException($"round {round}: {answered} of {names} names answered");
                if (round >= 0)
                {
                    cpu.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds);
                    wall.Add(stopwatch.Elapsed.TotalMilliseconds);
                    allocated.Add(GC.GetTotalAllocatedBytes(precise: true) - bytesBefore);
                }
                clock.Now += TimeSpan.FromSeconds(30);
            }
            cpu.Sort();
            wall.Sort();
            allocated.Sort();
            Console.WriteLine($"dns-refresh: {names} names (A + AAAA each, 2 addresses), {rounds} rounds after 2 warm-up, dnsmasq on the namespace's loopback");
            Console.WriteLine($"  CPU per round (this process, all threads): median {cpu[rounds / 2]:0.0} ms, min {cpu[0]:0.0} ms, max {cpu[^1]:0.0} ms");
            Console.WriteLine($"  wall per round: median {wall[rounds / 2]:0.0} ms, max {wall[^1]:0.0} ms");
            Console.WriteLine($"  allocated per round: median {allocated[rounds / 2] / 1024.0:0} KiB ({allocated[rounds / 2] / (double)names:0} bytes per name, DnsClient's answers included)");
            Console.WriteLine($"  addresses handed on: {handed}");
            return 0;
        }
        finally
        {
            dnsmasq.Kill();
            dnsmasq.WaitForExit();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void WaitForDnsmasq(DnsHostResolver resolver)
    {
        for (int i = 0; i < 50; i++)
        {
            if (resolver.LookupAsync("n0.bench.test", CancellationToken.None).GetAwaiter().GetResult().Addresses.Count > 0)
                return;
            Thread.Sleep(100);
        }
        throw new TimeoutException("dnsmasq did not answer within 5 s");
    }
}
