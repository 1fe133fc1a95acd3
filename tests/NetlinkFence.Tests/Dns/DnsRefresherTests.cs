using System.Net;
using NetlinkFence.Policy;
using NetlinkFence.Runtime;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Dns;

/// <summary>The refresher's scheduling and bookkeeping, with a clock moved by hand (no sleeping, no kernel).</summary>
public sealed class DnsRefresherTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 6, 0, 0, TimeSpan.Zero);

    private sealed class Sink
    {
        public List<(string Host, List<(IPAddress Address, DateTimeOffset Expires)> Addresses)> Calls { get; } = [];

        public Task Take(string host, IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> addresses, CancellationToken _)
        {
            Calls.Add((host, addresses.ToList()));
            return Task.CompletedTask;
        }

        public List<(IPAddress Address, DateTimeOffset Expires)> Last(string host) => Calls.Last(c => c.Host == host).Addresses;
    }

    private static async Task<ResolvedPolicy> Policy(ScriptedDns dns, TimeSpan? minTtl = null, TimeSpan? grace = null, int? max = null) =>
        await ResolvedPolicy.ResolveAsync(new PolicyBuilder()
            .Resolvers("192.0.2.53")
            .Dns(minTtl, grace, max)
            .Pin("pinned.example", "192.0.2.1")
            .AllowEgress("web", to: ["cdn.example", "pinned.example"], tcp: [443])
            .AllowEgress("late", to: ["late.example"], tcp: [443])
            .ResolveLazily("late")
            .Build(), dns);

    [Fact]
    public async Task EachAddressExpiresAtFlooredTtlPlusGraceAndTheNameIsAskedAgainAtItsTtl()
    {
        var dns = new ScriptedDns();
        dns.Answer("cdn.example", 5, "198.51.100.10");
        dns.Answer("late.example", 300, "198.51.100.99");
        var clock = new ManualClock(Start);
        var sink = new Sink();
        var refresher = new DnsRefresher(await Policy(dns), dns, sink.Take, clock);
        Assert.Equal(["cdn.example", "late.example"], refresher.Names);

        Assert.Equal(2, await refresher.RefreshDueAsync());
        // TTL 5 s is floored at min_ttl 30 s; the kernel keeps it 30 + 60 s.
        Assert.Equal([(IPAddress.Parse("198.51.100.10"), Start + TimeSpan.FromSeconds(90))], sink.Last("cdn.example"));
        Assert.Equal(Start + TimeSpan.FromSeconds(30), refresher.NextDue);

        dns.Answer("cdn.example", 120, "198.51.100.11");
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, await refresher.RefreshDueAsync()); // not due yet: nothing asked
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await refresher.RefreshDueAsync());
        // The old address keeps its expiry (the kernel drops it then); the new one lives TTL + grace.
        Assert.Equal([(IPAddress.Parse("198.51.100.10"), Start + TimeSpan.FromSeconds(90)), (IPAddress.Parse("198.51.100.11"), Start + TimeSpan.FromSeconds(30 + 120 + 60))],
            sink.Last("cdn.example"));
        Assert.Equal(Start + TimeSpan.FromSeconds(30 + 120), refresher.NextDue);
        Assert.DoesNotContain("pinned.example", dns.Asked);

        clock.Advance(TimeSpan.FromSeconds(120));
        Assert.Equal(1, await refresher.RefreshDueAsync());
        Assert.Equal([IPAddress.Parse("198.51.100.11")], sink.Last("cdn.example").Select(a => a.Address)); // expired one gone
    }

    [Fact]
    public async Task ANameThatStopsResolvingKeepsItsAddressesUntilTheyExpireAndTheFailureIsLoggedOncePerTtl()
    {
        var dns = new ScriptedDns();
        dns.Answer("cdn.example", 40, "198.51.100.10");
        var clock = new ManualClock(Start);
        var sink = new Sink();
        var log = new List<string>();
        var refresher = new DnsRefresher(await Policy(dns), dns, sink.Take, clock, log.Add);
        await refresher.RefreshDueAsync();
        log.Clear(); // late.example never resolves: logged in the first round
        dns.Silence("cdn.example");
        int calls = sink.Calls.Count;

        clock.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal(0, await refresher.RefreshDueAsync());
        Assert.Single(log, l => l.Contains("cdn.example") && l.Contains("keeping its 1 last address"));
        Assert.Equal([(IPAddress.Parse("198.51.100.10"), Start + TimeSpan.FromSeconds(100))], refresher.AddressesOf("cdn.example"));

        // Asked again every min_ttl, logged again only after a TTL (40 s).
        clock.Advance(TimeSpan.FromSeconds(30));
        await refresher.RefreshDueAsync();
        Assert.Single(log, l => l.Contains("cdn.example"));
        clock.Advance(TimeSpan.FromSeconds(30));
        await refresher.RefreshDueAsync();
        Assert.Equal(2, log.Count(l => l.Contains("cdn.example")));
        Assert.Empty(refresher.AddressesOf("cdn.example")); // 100 s passed: expired, as in the kernel
        Assert.Equal(calls, sink.Calls.Count); // nothing was handed on: the kernel's timeouts do the expiring
    }

    [Fact]
    public async Task ALongAnswerIsCappedKeepingTheNewestAndTheCapIsLogged()
    {
        var dns = new ScriptedDns();
        dns.Answer("cdn.example", 30, Enumerable.Range(1, 8).Select(i => $"198.51.100.{i}").ToArray());
        var clock = new ManualClock(Start);
        var sink = new Sink();
        var log = new List<string>();
        var refresher = new DnsRefresher(await Policy(dns, max: 5), dns, sink.Take, clock, log.Add);
        await refresher.RefreshDueAsync();
        Assert.Equal(Enumerable.Range(1, 5).Select(i => IPAddress.Parse($"198.51.100.{i}")), sink.Last("cdn.example").Select(a => a.Address));
        Assert.Single(log, l => l.Contains("max_addresses_per_name (5)") && l.Contains("3 that would expire first"));

        // A new answer: the new addresses outlive the old ones, so the oldest go first.
        dns.Answer("cdn.example", 30, "198.51.100.100", "198.51.100.101");
        clock.Advance(TimeSpan.FromSeconds(30));
        await refresher.RefreshDueAsync();
        Assert.Equal(new[] { 1, 2, 3, 100, 101 }.Select(i => IPAddress.Parse($"198.51.100.{i}")), sink.Last("cdn.example").Select(a => a.Address));
    }

    [Fact]
    public async Task ALazyNameIsTrackedWithoutAddressesAndHandedOnOnceItResolves()
    {
        var dns = new ScriptedDns();
        dns.Answer("cdn.example", 30, "198.51.100.10");
        var resolved = await Policy(dns);
        Assert.True(resolved.Names["late.example"].Unresolved);
        var clock = new ManualClock(Start);
        var sink = new Sink();
        var refresher = new DnsRefresher(resolved, dns, sink.Take, clock);
        await refresher.RefreshDueAsync();
        Assert.DoesNotContain(sink.Calls, c => c.Host == "late.example");
        dns.Answer("late.example", 60, "2001:db8::7");
        clock.Advance(TimeSpan.FromSeconds(30));
        await refresher.RefreshDueAsync();
        Assert.Equal([(IPAddress.Parse("2001:db8::7"), clock.Now + TimeSpan.FromSeconds(120))], sink.Last("late.example"));
    }

    [Fact]
    public async Task RunAsyncWaitsOnTheInjectedClock()
    {
        var dns = new ScriptedDns();
        dns.Answer("cdn.example", 30, "198.51.100.10");
        dns.Answer("late.example", 30, "198.51.100.11");
        var time = new ManualClock(Start);
        var sink = new Sink();
        var refresher = new DnsRefresher(await Policy(dns), dns, sink.Take, time);
        using var stop = new CancellationTokenSource();
        var run = refresher.RunAsync(stop.Token);
        await WaitUntil(() => sink.Calls.Count == 2);
        time.Advance(TimeSpan.FromSeconds(29));
        await Task.Delay(50);
        Assert.Equal(2, sink.Calls.Count);
        time.Advance(TimeSpan.FromSeconds(1));
        await WaitUntil(() => sink.Calls.Count == 4);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public async Task ASinkFailureIsLoggedAndRetriedAfterMinTtlWithoutStoppingOtherNames()
    {
        var dns = new ScriptedDns();
        dns.Answer("cdn.example", 300, "198.51.100.10");
        dns.Answer("late.example", 300, "198.51.100.11");
        var clock = new ManualClock(Start);
        var log = new List<string>();
        var handed = new List<string>();
        bool failed = false;
        var refresher = new DnsRefresher(await Policy(dns), dns, (host, _, _) =>
        {
            if (host == "cdn.example" && !failed)
            {
                failed = true;
                handed.Add("cdn.example (failed)");
                throw new InvalidOperationException("generation moved");
            }
            handed.Add(host);
            return Task.CompletedTask;
        }, clock, log.Add);
        Assert.Equal(2, await refresher.RefreshDueAsync());
        Assert.Equal(["cdn.example (failed)", "late.example"], handed);
        Assert.Single(log, l => l.Contains("handing cdn.example's 1 address(es) on failed: generation moved"));
        Assert.Equal(Start + TimeSpan.FromSeconds(30), refresher.NextDue);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await refresher.RefreshDueAsync());
        Assert.Equal("cdn.example", handed[^1]);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++)
            await Task.Delay(10);
        Assert.True(condition());
    }

    [Fact]
    public async Task MergingAnAnswerAllocatesNothing()
    {
        var dns = new ScriptedDns();
        dns.Answer("cdn.example", 30, "198.51.100.10");
        var refresher = new DnsRefresher(await Policy(dns, max: 200), dns, (_, _, _) => Task.CompletedTask, new ManualClock(Start));
        var name = new TrackedName("cdn.example");
        // Three rotating answers of 60 addresses, 30 s apart: each address lives 90 s, so every round prunes the
        // set of three rounds ago, extends one and adds one (the cap's log line is the one thing that allocates).
        var answers = Enumerable.Range(0, 3).Select(round => new DnsAnswer("cdn.example",
            Enumerable.Range(0, 60).Select(i => new DnsAddress(IPAddress.Parse($"198.51.{round}.{i}"), TimeSpan.FromSeconds(30))).ToList(), "scripted")).ToArray();
        var now = Start;
        refresher.Accept(name, answers[0], now); // warm-up: the list grows to its steady size once
        refresher.Accept(name, answers[1], now += TimeSpan.FromSeconds(30));
        refresher.Accept(name, answers[2], now += TimeSpan.FromSeconds(30));
        // Measured up to five times: the runtime may allocate on this thread once while it re-compiles a hot method
        // (tiering, late on a loaded machine); code that allocates per merge allocates in every attempt.
        var attempts = new List<long>();
        for (int attempt = 0; attempt < 5 && (attempts.Count == 0 || attempts[^1] != 0); attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int round = 0; round < 99; round++)
            {
                now += TimeSpan.FromSeconds(30);
                bool handedOn = refresher.Accept(name, answers[round % 3], now); // round 0 re-adds the first set, just pruned
                Assert.True(handedOn);
            }
            attempts.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(180, name.Addresses.Count);
        Assert.True(attempts[^1] == 0, $"merging 99 answers of 60 addresses allocated, attempt by attempt: {string.Join(", ", attempts)} bytes");
    }

    /// <summary>
    /// A name only input.allow uses (from:) has nowhere to go in the egress allow sets: it is not tracked (it used to be
    /// asked and then refused every min_ttl with "no egress entry names it"), and the round sink gets every answered
    /// egress name at once.
    /// </summary>
    [Fact]
    public async Task NamesUsedOnlyInInputAreNotTrackedAndARoundIsHandedOnAtOnce()
    {
        var dns = new ScriptedDns();
        dns.Answer("cdn.example", 60, "198.51.100.10");
        dns.Answer("api.example", 60, "198.51.100.11");
        dns.Answer("admin.example", 60, "198.51.100.20");
        var policy = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load("""
            version: 1
            input:
              allow:
                - { name: ssh, from: [admin.example], tcp: [22] }
            egress:
              dns:
                resolvers: [192.0.2.53]
              allow:
                - { name: web, to: [cdn.example, api.example], tcp: [443] }
            """, "input-names.yaml"), dns);
        var rounds = new List<List<string>>();
        var log = new List<string>();
        var refresher = new DnsRefresher(policy, dns, (DnsRefresher.RefreshNames)((names, _) =>
        {
            rounds.Add(names.Select(n => n.Host).ToList());
            return Task.CompletedTask;
        }), new ManualClock(Start), log.Add);
        Assert.Equal(["api.example", "cdn.example"], refresher.Names);
        Assert.Equal(["admin.example"], refresher.NotRefreshed);
        Assert.Equal(2, await refresher.RefreshDueAsync());
        Assert.Equal([["api.example", "cdn.example"]], rounds);
        Assert.Empty(log);
    }
}
