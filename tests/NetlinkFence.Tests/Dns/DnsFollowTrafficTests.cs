using System.Diagnostics;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Runtime;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Dns;

/// <summary>
/// End to end, in real time: dnsmasq in the world answers for a name, the refresher (asking from inside the agent
/// namespace, through the policy's own DNS allowance) hands its answers to <see cref="LivePolicy"/>, and real TCP
/// connections from the agent show what the kernel lets through as the name moves.
/// </summary>
public sealed class DnsFollowTrafficTests
{
    private const string Resolver = "198.51.100.53", Old = "198.51.100.10", New = "198.51.100.11";

    [Fact]
    public async Task ANameThatMovesIsReachableAtItsNewAddressWithinMinTtlAndDeniedAtTheOldAfterTtlPlusGrace()
    {
        using var net = new AgentAndWorld(Resolver, Old, New);
        using var dns = new Dnsmasq(net.World, Resolver, ttlSeconds: 1, ("cdn.test", Old));
        dns.WaitUntilAnswering(net.Agent, "cdn.test");
        net.ListenTcp(Old, 443);
        net.ListenTcp(New, 443);
        Assert.True(net.TcpReachable(New, 443, AgentAndWorld.ExpectedThroughMs)); // before the policy everything is open: the listeners work

        var minTtl = TimeSpan.FromSeconds(2);
        var grace = TimeSpan.FromSeconds(8);
        var policy = new PolicyBuilder().Table("dnsfollow").Resolvers(Resolver).Dns(minTtl, grace)
            .AllowEgress("web", to: ["cdn.test"], tcp: [443]).Build();
        var resolver = DnsHostResolver.ForPolicy(policy, net.Agent.Name, TimeSpan.FromMilliseconds(500));
        var resolved = await ResolvedPolicy.ResolveAsync(policy, resolver);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, PolicyCompiler.Compile(resolved));
        var live = await LivePolicy.AttachAsync(nft, resolved);
        var log = new List<string>();
        var refresher = new DnsRefresher(resolved, resolver, live.RefreshNameAsync, log: line => { lock (log) log.Add(line); });
        using var stop = new CancellationTokenSource();
        var running = refresher.RunAsync(stop.Token);
        try
        {
            Assert.True(net.TcpReachable(Old, 443, AgentAndWorld.ExpectedThroughMs), "the name's address is not reachable after apply");
            Assert.False(net.TcpReachable(New, 443, 500), "an address the name does not have is reachable");
            await Eventually(() => net.Agent.Nft("list table inet dnsfollow").Contains("expires"), TimeSpan.FromSeconds(10),
                "the refresher never gave the name's address a kernel timeout: " + net.Agent.Nft("list table inet dnsfollow"));
            await AssertMatchesRunning(policy, resolver, nft); // a followed name's timed address is the policy's, not drift

            dns.SetHosts(("cdn.test", New));
            var moved = Stopwatch.StartNew();
            // min_ttl + 1 s, plus a CI margin of 4 s (a loaded 2-core machine; each probe waits up to 0.5 s).
            await Eventually(() => net.TcpReachable(New, 443, 500), minTtl + TimeSpan.FromSeconds(1 + 4), $"{New} not reachable after the name moved");
            Assert.True(net.TcpReachable(Old, 443, AgentAndWorld.ExpectedThroughMs), "the old address was cut before its TTL + grace ran out");
            await AssertMatchesRunning(policy, resolver, nft); // the old address, still timed, and the new one
            // The old address was last answered at most min_ttl before the move: gone by then + TTL (floored) + grace.
            await Eventually(() => !net.TcpReachable(Old, 443, 500), minTtl + minTtl + grace + TimeSpan.FromSeconds(5) - moved.Elapsed,
                $"{Old} still reachable after TTL + grace");
            Assert.True(net.TcpReachable(New, 443, AgentAndWorld.ExpectedThroughMs), "the new address stopped being reachable");
            Assert.False(running.IsFaulted, running.Exception?.ToString());
            Assert.DoesNotContain(log, l => l.Contains("failed"));
        }
        finally
        {
            stop.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        }
    }

    /// <summary>
    /// A resolver that answers with a TTL of a year (a misconfigured zone, or one that wants an address kept) does not
    /// keep the address allowed for a year, nor stop the name being asked again: <c>max_ttl</c> caps it. The element's
    /// kernel timeout is at most max_ttl + grace, the name's new address is reachable within max_ttl (+ 1 s), and the
    /// old one is denied once max_ttl + grace ran out.
    /// </summary>
    [Fact]
    public async Task AYearLongTtlIsCappedAtMaxTtl()
    {
        using var net = new AgentAndWorld(Resolver, Old, New);
        using var dns = new Dnsmasq(net.World, Resolver, ttlSeconds: 365 * 24 * 3600, ("cdn.test", Old));
        dns.WaitUntilAnswering(net.Agent, "cdn.test");
        net.ListenTcp(Old, 443);
        net.ListenTcp(New, 443);

        var maxTtl = TimeSpan.FromSeconds(3);
        var grace = TimeSpan.FromSeconds(3);
        var policy = new PolicyBuilder().Table("dnsfollow").Resolvers(Resolver).Dns(minTtl: TimeSpan.FromSeconds(1), grace: grace, maxTtl: maxTtl)
            .AllowEgress("web", to: ["cdn.test"], tcp: [443]).Build();
        var resolver = DnsHostResolver.ForPolicy(policy, net.Agent.Name, TimeSpan.FromMilliseconds(500));
        var resolved = await ResolvedPolicy.ResolveAsync(policy, resolver);
        Assert.Equal(TimeSpan.FromDays(365), Assert.Single(resolved.Names["cdn.test"].Answers).Ttl); // what the resolver says
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, PolicyCompiler.Compile(resolved));
        var live = await LivePolicy.AttachAsync(nft, resolved);
        var refresher = new DnsRefresher(resolved, resolver, live.RefreshNameAsync);
        using var stop = new CancellationTokenSource();
        var running = refresher.RunAsync(stop.Token);
        try
        {
            string Listing() => net.Agent.Nft("list set inet dnsfollow allow_v4");
            await Eventually(() => Listing().Contains("expires"), TimeSpan.FromSeconds(10), "the refresher never gave the address a kernel timeout: " + Listing());
            // nft prints 5s996ms: the timeout is the expiry less the moment the commit was made, in whole milliseconds.
            var timeout = System.Text.RegularExpressions.Regex.Match(Listing(), @"timeout (?:(\d+)s)?(?:(\d+)ms)? expires");
            double ms = timeout.Success ? 1000 * double.Parse("0" + timeout.Groups[1].Value) + double.Parse("0" + timeout.Groups[2].Value) : -1;
            Assert.True(ms is > 5000 and <= 6000, "at most max_ttl + grace: " + Listing());

            dns.SetHosts(("cdn.test", New));
            var moved = Stopwatch.StartNew();
            await Eventually(() => net.TcpReachable(New, 443, 500), maxTtl + TimeSpan.FromSeconds(1 + 4), $"{New} not reachable: the name was not asked again after max_ttl");
            await Eventually(() => !net.TcpReachable(Old, 443, 500), maxTtl + maxTtl + grace + TimeSpan.FromSeconds(5) - moved.Elapsed,
                $"{Old} still reachable after max_ttl + grace");
            Assert.False(running.IsFaulted, running.Exception?.ToString());
        }
        finally
        {
            stop.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        }
    }

    /// <summary>What <c>verify</c> decides: the live table against the policy as its names resolve now.</summary>
    private static async Task AssertMatchesRunning(EgressPolicy policy, ITtlHostResolver resolver, NftablesConnection nft)
    {
        var compiled = PolicyCompiler.Compile(await ResolvedPolicy.ResolveAsync(policy, resolver));
        var live = await nft.ListTableAsync(NftFamily.Inet, "dnsfollow");
        var differences = TableDiff.CompareRunning(compiled, live, DateTimeOffset.UtcNow);
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    private static async Task Eventually(Func<bool> condition, TimeSpan within, string failure)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < within, failure + $" (waited {clock.Elapsed.TotalSeconds:0.0}s)");
            await Task.Delay(100);
        }
    }
}
