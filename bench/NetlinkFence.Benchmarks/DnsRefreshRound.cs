using System.Diagnostics;
using System.Net;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Runtime;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// <c>dns-refresh [NAMES] [ROUNDS]</c>: the CPU one refresh round costs. A fresh namespace runs Debian's dnsmasq on
/// its loopback, answering NAMES names (two A records each, TTL 30 s) from a hosts file; a <see cref="DnsRefresher"/>
/// over <see cref="DnsHostResolver"/> (queries made from inside the namespace, A and AAAA per name) refreshes them
/// all each round, its clock moved by hand past the TTL. Two series: the answers handed to a sink that only counts
/// (DNS and merge alone), then to <see cref="LivePolicy.RefreshNamesAsync"/> on the policy's table applied in the
/// namespace (the daemon's path: one element transaction per round, with kernel timeouts). This process's CPU time (all
/// threads, user + system) is read around each round; dnsmasq's own CPU is not counted. Allocation is split at the
/// moment the DNS answers are in: before it, DnsClient's queries and answers; after it, the merge and the commits.
/// </summary>
internal static class DnsRefreshRound
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow; // LivePolicy drops what expired by the system clock

        public override DateTimeOffset GetUtcNow() => Now;
    }

    public static int Run(int names, int rounds)
    {
        using var ns = BenchNamespace.Create();
        BenchNamespace.Run("ip", "-n", ns.Name, "link", "set", "lo", "up");
        string directory = Directory.CreateTempSubdirectory("nlfbench-dns-").FullName;
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
            Console.WriteLine($"dns-refresh: {names} names (A + AAAA each, 2 addresses), {rounds} rounds after 2 warm-up, dnsmasq on the namespace's loopback");
            long handed = 0;
            Series("answers to a counting sink (no commit)", resolved, resolver, names, rounds,
                (DnsRefresher.RefreshNames)((batch, _) => { foreach (var (_, addresses) in batch) handed += addresses.Count; return Task.CompletedTask; }));
            Console.WriteLine($"  addresses handed on: {handed}");
            using var nft = NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name }).GetAwaiter().GetResult();
            PolicyApplier.ApplyAsync(nft, PolicyCompiler.Compile(resolved)).GetAwaiter().GetResult();
            var live = LivePolicy.AttachAsync(nft, resolved).GetAwaiter().GetResult();
            Series("answers committed: LivePolicy.RefreshNamesAsync, one element transaction per round (the daemon's path)", resolved, resolver, names, rounds,
                (DnsRefresher.RefreshNames)((batch, ct) => live.RefreshNamesAsync(batch, ct)));
            string listing = ns.NftOutput("list", "set", "inet", policy.Table, "allow_v4");
            Console.WriteLine($"  allow_v4 holds {listing.Split("expires").Length - 1} elements with a timeout (nft list set)");
            return 0;
        }
        finally
        {
            dnsmasq.Kill();
            dnsmasq.WaitForExit();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Two warm-up rounds, then <paramref name="rounds"/> measured ones, the clock moved past the TTL before each.</summary>
    private static void Series(string title, ResolvedPolicy resolved, DnsHostResolver resolver, int names, int rounds, DnsRefresher.RefreshNames sink)
    {
        var clock = new Clock();
        var timed = new AnsweredAt(resolver);
        var refresher = new DnsRefresher(resolved, timed, sink, clock, line => Console.Error.WriteLine(line));
        var cpu = new List<double>();
        var system = new List<double>();
        var wall = new List<double>();
        var dnsBytes = new List<long>();
        var restBytes = new List<long>();
        // NLF_ALLOCATION_TYPES=1: what the measured rounds allocate, by type (sampled by the runtime).
        using var types = Environment.GetEnvironmentVariable("NLF_ALLOCATION_TYPES") == "1" ? new AllocationTypes() : null;
        for (int round = -2; round < rounds; round++) // two warm-up rounds
        {
            if (round == 0 && types is not null)
                types.Start();
            var process = Process.GetCurrentProcess();
            var cpuBefore = process.TotalProcessorTime;
            var systemBefore = process.PrivilegedProcessorTime;
            long bytesBefore = GC.GetTotalAllocatedBytes(precise: true);
            var stopwatch = Stopwatch.StartNew();
            int answered = refresher.RefreshDueAsync().GetAwaiter().GetResult();
            stopwatch.Stop();
            long bytesAfter = GC.GetTotalAllocatedBytes(precise: true);
            process.Refresh();
            if (answered != names)
                throw new InvalidOperationException($"round {round}: {answered} of {names} names answered");
            if (round >= 0)
            {
                cpu.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds);
                system.Add((process.PrivilegedProcessorTime - systemBefore).TotalMilliseconds);
                wall.Add(stopwatch.Elapsed.TotalMilliseconds);
                dnsBytes.Add(timed.BytesWhenAnswered - bytesBefore);
                restBytes.Add(bytesAfter - timed.BytesWhenAnswered);
            }
            clock.Now += TimeSpan.FromSeconds(31);
        }
        cpu.Sort();
        system.Sort();
        wall.Sort();
        dnsBytes.Sort();
        restBytes.Sort();
        Console.WriteLine($"{title}:");
        Console.WriteLine($"  CPU per round (this process, all threads): median {cpu[rounds / 2]:0.0} ms, min {cpu[0]:0.0} ms, max {cpu[^1]:0.0} ms; of it in the kernel (system time): median {system[rounds / 2]:0.0} ms");
        Console.WriteLine($"  wall per round: median {wall[rounds / 2]:0.0} ms, max {wall[^1]:0.0} ms");
        Console.WriteLine($"  allocated per round, DNS (DnsClient's queries and answers): median {dnsBytes[rounds / 2] / 1024.0:0} KiB ({dnsBytes[rounds / 2] / (double)names:0} bytes per name)");
        Console.WriteLine($"  allocated per round, after the answers (merge{(title.Contains("commit") ? " and commits" : "")}): median {restBytes[rounds / 2] / 1024.0:0} KiB ({restBytes[rounds / 2] / (double)names:0} bytes per name)");
        types?.Print(25);
    }

    /// <summary>Passes lookups on and notes the process's allocated bytes the moment the answers are in.</summary>
    private sealed class AnsweredAt(DnsHostResolver inner) : ITtlHostResolver
    {
        public long BytesWhenAnswered { get; private set; }

        public Task<IReadOnlyList<System.Net.IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken) => inner.ResolveAsync(host, cancellationToken);

        public Task<DnsAnswer> LookupAsync(string host, CancellationToken cancellationToken) => inner.LookupAsync(host, cancellationToken);

        public async Task<IReadOnlyList<DnsAnswer>> LookupManyAsync(IReadOnlyList<string> hosts, CancellationToken cancellationToken)
        {
            var answers = await inner.LookupManyAsync(hosts, cancellationToken).ConfigureAwait(false);
            BytesWhenAnswered = GC.GetTotalAllocatedBytes(precise: true);
            return answers;
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
