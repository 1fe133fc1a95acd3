using System.Net;
using NetlinkFence.Policy;
using NetlinkFence.Runtime;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Dns;

/// <summary>
/// Resolution and refresh against a real DNS server: Debian's dnsmasq in the world namespace, reachable only from
/// the agent namespace (its address exists nowhere else), answering from a hosts file it re-reads on SIGHUP.
/// </summary>
public sealed class DnsmasqTests
{
    private const string ResolverAddress = "198.51.100.53";

    private static (AgentAndWorld Net, Dnsmasq Dns) Start(int ttl, params (string, string)[] hosts)
    {
        var net = new AgentAndWorld(ResolverAddress);
        var dns = new Dnsmasq(net.World, ResolverAddress, ttl, hosts);
        try
        {
            dns.WaitUntilAnswering(net.Agent, hosts[0].Item1);
        }
        catch
        {
            dns.Dispose();
            net.Dispose();
            throw;
        }
        return (net, dns);
    }

    /// <summary>Runs <paramref name="test"/> with the path of a policy file in a directory of its own, removed afterwards.</summary>
    private static void WithPolicyFile(Action<string> test)
    {
        string directory = Directory.CreateTempSubdirectory("netlinkfence-dns-").FullName;
        try
        {
            test(Path.Combine(directory, "policy.yaml"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static EgressPolicy Policy(int minTtlSeconds = 1, int graceSeconds = 2, int max = 50, bool lazy = false, string host = "cdn.test")
    {
        var builder = new PolicyBuilder().Resolvers(ResolverAddress)
            .Dns(TimeSpan.FromSeconds(minTtlSeconds), TimeSpan.FromSeconds(graceSeconds), max)
            .AllowEgress("web", to: [host], tcp: [443]);
        return (lazy ? builder.ResolveLazily("web") : builder).Build();
    }

    [Fact]
    public async Task QueriesLeaveFromInsideTheNamespaceAndCarryTheServersTtl()
    {
        var (net, dns) = Start(7, ("cdn.test", "198.51.100.10"), ("cdn.test", "2001:db8::10"));
        using (net)
        using (dns)
        {
            var resolver = DnsHostResolver.ForPolicy(Policy(), net.Agent.Name, TimeSpan.FromMilliseconds(500));
            var answer = await resolver.LookupAsync("cdn.test", CancellationToken.None);
            Assert.Null(answer.Error);
            Assert.Equal([new DnsAddress(IPAddress.Parse("198.51.100.10"), TimeSpan.FromSeconds(7)), new DnsAddress(IPAddress.Parse("2001:db8::10"), TimeSpan.FromSeconds(7))],
                answer.Addresses);
            Assert.Equal($"{ResolverAddress}:53", answer.Resolver);

            // The same resolver from this process's own namespace, where 198.51.100.53 does not exist: no answer.
            var outside = DnsHostResolver.ForPolicy(Policy(), networkNamespace: null, TimeSpan.FromMilliseconds(300));
            var lost = await outside.LookupAsync("cdn.test", CancellationToken.None);
            Assert.Empty(lost.Addresses);
            Assert.NotNull(lost.Error);

            // Unknown names: NXDOMAIN, an answer with an error, not an exception.
            var missing = await resolver.LookupAsync("nowhere.test", CancellationToken.None);
            Assert.Empty(missing.Addresses);
            Assert.NotNull(missing.Error);

            // The policy resolves through it: TTLs and the resolver show up in the resolved names.
            var resolved = await ResolvedPolicy.ResolveAsync(Policy(), resolver);
            var name = resolved.Names["cdn.test"];
            Assert.Equal((ResolutionSource.Dns, $"{ResolverAddress}:53"), (name.Source, name.Resolver));
            Assert.All(name.Answers, a => Assert.Equal(TimeSpan.FromSeconds(7), a.Ttl));
        }
    }

    [Fact]
    public async Task ANameWithAnUnderscoreIsResolvedLikeAnyOther()
    {
        var (net, dns) = Start(7, ("build_01.corp.test", "198.51.100.11"));
        using (net)
        using (dns)
        {
            var policy = Policy(host: "build_01.corp.test");
            var resolved = await ResolvedPolicy.ResolveAsync(policy, DnsHostResolver.ForPolicy(policy, net.Agent.Name, TimeSpan.FromMilliseconds(500)));
            Assert.Equal([IPAddress.Parse("198.51.100.11")], resolved.Names["build_01.corp.test"].Addresses);
        }
    }

    [Fact]
    public async Task ANameThatMovesIsFollowedAndTheOldAddressIsKeptUntilTtlPlusGrace()
    {
        var (net, dns) = Start(3, ("cdn.test", "198.51.100.10"));
        using (net)
        using (dns)
        {
            var clock = new ManualClock(new DateTimeOffset(2026, 12, 2, 6, 0, 0, TimeSpan.Zero));
            var handed = new List<(string Host, List<(IPAddress Address, DateTimeOffset Expires)> Addresses)>();
            var policy = Policy(minTtlSeconds: 5, graceSeconds: 10);
            var resolver = DnsHostResolver.ForPolicy(policy, net.Agent.Name, TimeSpan.FromMilliseconds(500));
            var refresher = new DnsRefresher(await ResolvedPolicy.ResolveAsync(policy, resolver), resolver,
                (host, addresses, _) => { handed.Add((host, addresses.ToList())); return Task.CompletedTask; }, clock);
            var t0 = clock.Now;
            Assert.Equal(1, await refresher.RefreshDueAsync());
            // TTL 3 s floored at min_ttl 5 s, + grace 10 s.
            Assert.Equal([(IPAddress.Parse("198.51.100.10"), t0 + TimeSpan.FromSeconds(15))], handed[^1].Addresses);

            dns.SetHosts(("cdn.test", "198.51.100.11"));
            await WaitForAnswer(resolver, "198.51.100.11");
            clock.Advance(TimeSpan.FromSeconds(5)); // min_ttl later the name is due again
            Assert.Equal(1, await refresher.RefreshDueAsync());
            Assert.Equal([(IPAddress.Parse("198.51.100.10"), t0 + TimeSpan.FromSeconds(15)), (IPAddress.Parse("198.51.100.11"), t0 + TimeSpan.FromSeconds(20))],
                handed[^1].Addresses);
            clock.Advance(TimeSpan.FromSeconds(10)); // t0 + 15: the old address's TTL + grace ran out
            Assert.Equal(1, await refresher.RefreshDueAsync());
            Assert.Equal([IPAddress.Parse("198.51.100.11")], handed[^1].Addresses.Select(a => a.Address));
        }
    }

    [Fact]
    public async Task AnAnswerMovingANameOntoTheMetadataServiceIsRefusedAndTheNameKeepsItsAddresses()
    {
        // DNS rebinding: the name's answer turns into 169.254.169.254 (or loopback); a name never opens those.
        var (net, dns) = Start(3, ("cdn.test", "198.51.100.10"));
        using (net)
        using (dns)
        {
            var clock = new ManualClock(new DateTimeOffset(2026, 12, 2, 6, 0, 0, TimeSpan.Zero));
            var log = new List<string>();
            var handed = new List<List<IPAddress>>();
            var policy = Policy(minTtlSeconds: 5, graceSeconds: 10);
            var resolver = DnsHostResolver.ForPolicy(policy, net.Agent.Name, TimeSpan.FromMilliseconds(500));
            var refresher = new DnsRefresher(await ResolvedPolicy.ResolveAsync(policy, resolver), resolver,
                (_, addresses, _) => { handed.Add(addresses.Select(a => a.Address).ToList()); return Task.CompletedTask; }, clock, log.Add);
            Assert.Equal(1, await refresher.RefreshDueAsync());

            dns.SetHosts(("cdn.test", "169.254.169.254"), ("cdn.test", "127.0.0.1"));
            await WaitForAnswer(resolver, "169.254.169.254");
            clock.Advance(TimeSpan.FromSeconds(5));
            Assert.Equal(0, await refresher.RefreshDueAsync()); // only refused addresses: as no answer, nothing handed on
            Assert.Equal([IPAddress.Parse("198.51.100.10")], refresher.AddressesOf("cdn.test").Select(a => a.Address));
            Assert.Contains(log, l => l.Contains("cdn.test answered") && l.Contains("169.254.169.254 (link-local, where the cloud metadata service answers)")
                && l.Contains("127.0.0.1 (loopback)") && l.Contains("not allowed"));

            // Beside a usable address: that one is taken, the refused ones are not, and logged once per TTL.
            dns.SetHosts(("cdn.test", "198.51.100.11"), ("cdn.test", "169.254.169.254"));
            await WaitForAnswer(resolver, "198.51.100.11");
            clock.Advance(TimeSpan.FromSeconds(5));
            Assert.Equal(1, await refresher.RefreshDueAsync());
            Assert.Equal([IPAddress.Parse("198.51.100.10"), IPAddress.Parse("198.51.100.11")], handed[^1]);
            int logged = log.Count(l => l.Contains("not allowed"));
            clock.Advance(TimeSpan.FromSeconds(1));
            await refresher.RefreshDueAsync();
            Assert.Equal(logged, log.Count(l => l.Contains("not allowed")));
        }
    }

    [Fact]
    public void ApplyRefusesANameThatResolvesOnlyToTheMetadataServiceAndPlanShowsWhatWasLeftOut()
    {
        var (net, dns) = Start(30, ("meta.test", "169.254.169.254"), ("mixed.test", "198.51.100.10"), ("mixed.test", "127.0.0.1"));
        using (net)
        using (dns)
        {
            WithPolicyFile(policy =>
            {
                string text = $"version: 1\negress:\n  dns:\n    resolvers: [{ResolverAddress}]\n  allow:\n    - name: web\n      to: [mixed.test, meta.test]\n      tcp: [80]\n";
                File.WriteAllText(policy, text);
                var refused = CliRunner.Run($"apply {policy} --netns {net.Agent.Name}");
                Assert.True(refused.ExitCode == 2, refused.Stdout + refused.Stderr);
                Assert.True(refused.Stderr.Contains($"{policy}:7:24: error: host 'meta.test' resolved only to addresses a name may not open: 169.254.169.254 (link-local"), refused.Stderr);
                Assert.Contains("No such file", TestNamespace.TryRun("ip", $"netns exec {net.Agent.Name} nft list table inet netlinkfence").Stderr);

                File.WriteAllText(policy, text.Replace(", meta.test", ""));
                var plan = CliRunner.Run($"plan {policy} --netns {net.Agent.Name}");
                Assert.True(plan.ExitCode == 0, plan.Stderr);
                Assert.Contains($"#   mixed.test -> 198.51.100.10 (ttl 30s) (DNS via {ResolverAddress}:53); refused from the answer: 127.0.0.1", plan.Stdout);
                var applied = CliRunner.Run($"apply {policy} --netns {net.Agent.Name}");
                Assert.True(applied.ExitCode == 0, applied.Stderr);
                string set = net.Agent.Nft("list set inet netlinkfence allow_v4");
                Assert.Contains("198.51.100.10 . tcp . 80", set);
                Assert.DoesNotContain("127.0.0.1", set);
            });
        }
    }

    [Fact]
    public async Task ASilentResolverKeepsTheLastAnswerUntilItExpiresAndIsLoggedOncePerTtl()
    {
        var (net, dns) = Start(5, ("cdn.test", "198.51.100.10"));
        using (net)
        using (dns)
        {
            var clock = new ManualClock(new DateTimeOffset(2026, 12, 2, 6, 0, 0, TimeSpan.Zero));
            var log = new List<string>();
            int handed = 0;
            var policy = Policy(minTtlSeconds: 5, graceSeconds: 10);
            var resolver = DnsHostResolver.ForPolicy(policy, net.Agent.Name, TimeSpan.FromMilliseconds(300));
            var refresher = new DnsRefresher(await ResolvedPolicy.ResolveAsync(policy, resolver), resolver, (_, _, _) => { handed++; return Task.CompletedTask; }, clock, log.Add);
            var t0 = clock.Now;
            await refresher.RefreshDueAsync();
            dns.Pause();
            try
            {
                clock.Advance(TimeSpan.FromSeconds(5));
                Assert.Equal(0, await refresher.RefreshDueAsync());
                clock.Advance(TimeSpan.FromSeconds(4)); // not due yet (asked again after min_ttl)
                Assert.Equal(0, await refresher.RefreshDueAsync());
                Assert.Equal([(IPAddress.Parse("198.51.100.10"), t0 + TimeSpan.FromSeconds(15))], refresher.AddressesOf("cdn.test"));
                Assert.Equal(1, handed);
                var failure = Assert.Single(log);
                Assert.Contains($"cdn.test did not resolve via {ResolverAddress}:53", failure);
                clock.Advance(TimeSpan.FromSeconds(6)); // t0 + 15: a TTL after the first failure, and expired
                Assert.Equal(0, await refresher.RefreshDueAsync());
                Assert.Equal(2, log.Count);
                Assert.Empty(refresher.AddressesOf("cdn.test"));
            }
            finally
            {
                dns.Resume();
            }
            clock.Advance(TimeSpan.FromSeconds(5));
            Assert.Equal(1, await refresher.RefreshDueAsync());
            Assert.Equal([IPAddress.Parse("198.51.100.10")], refresher.AddressesOf("cdn.test").Select(a => a.Address));
        }
    }

    [Fact]
    public async Task AnAnswerWith500AddressesIsCappedAtTheConfiguredNumber()
    {
        var hosts = Enumerable.Range(0, 500).Select(i => ("big.test", $"10.{i / 250}.{i % 250}.1")).ToArray();
        var (net, dns) = Start(30, hosts);
        using (net)
        using (dns)
        {
            var log = new List<string>();
            var policy = Policy(max: 20, host: "big.test");
            var resolver = DnsHostResolver.ForPolicy(policy, net.Agent.Name, TimeSpan.FromSeconds(2));
            // 500 A records do not fit a UDP answer: DnsClient retries over TCP, from the same namespace thread.
            var answer = await resolver.LookupAsync("big.test", CancellationToken.None);
            Assert.True(500 == answer.Addresses.Count, $"{answer.Addresses.Count}: {answer.Error} {string.Join(" | ", dns.Log)}");
            IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)>? handed = null;
            var refresher = new DnsRefresher(await ResolvedPolicy.ResolveAsync(policy, resolver), resolver,
                (_, addresses, _) => { handed = addresses.ToList(); return Task.CompletedTask; }, new ManualClock(DateTimeOffset.UnixEpoch), log.Add);
            await refresher.RefreshDueAsync();
            Assert.Equal(20, handed!.Count);
            Assert.Single(log, l => l.Contains("big.test has more than max_addresses_per_name (20)") && l.Contains("480"));
        }
    }

    [Fact]
    public void ApplyRefusesAnUnresolvableNameWithItsLocationAndAcceptsItWhenLazy()
    {
        var (net, dns) = Start(30, ("cdn.test", "198.51.100.10"));
        using (net)
        using (dns)
        {
            WithPolicyFile(policy =>
            {
                string text = $"version: 1\negress:\n  dns:\n    resolvers: [{ResolverAddress}]\n  allow:\n    - name: web\n      to: [cdn.test, gone.test]\n      tcp: [443]\n";
                File.WriteAllText(policy, text);
                var refused = CliRunner.Run($"apply {policy} --netns {net.Agent.Name}");
                Assert.True(refused.ExitCode == 2, refused.Stdout + refused.Stderr);
                Assert.Contains($"{policy}:7:22", refused.Stderr);
                Assert.Contains("gone.test", refused.Stderr);
                Assert.Contains("resolve: lazy", refused.Stderr);
                Assert.Contains("No such file", TestNamespace.TryRun("ip", $"netns exec {net.Agent.Name} nft list table inet netlinkfence").Stderr);

                File.WriteAllText(policy, text + "      resolve: lazy\n");
                var plan = CliRunner.Run($"plan {policy} --netns {net.Agent.Name}");
                Assert.True(plan.ExitCode == 0, plan.Stderr);
                string expected = $"#   cdn.test -> 198.51.100.10 (ttl 30s) (DNS via {ResolverAddress}:53)";
                Assert.True(plan.Stdout.Contains(expected), $"plan does not show '{expected}':\n{plan.Stdout}\n{plan.Stderr}");
                Assert.Contains("#   gone.test -> no address yet (resolve: lazy)", plan.Stdout);
                var applied = CliRunner.Run($"apply {policy} --netns {net.Agent.Name}");
                Assert.True(applied.ExitCode == 0, applied.Stderr);
                Assert.Contains("not refreshed without the daemon ('netlinkfence run')", applied.Stdout + applied.Stderr);
                Assert.Contains("198.51.100.10", net.Agent.Nft("list table inet netlinkfence"));
            });
        }
    }

    /// <summary>
    /// <c>plan</c> says as what TTL the daemon follows an answer whose TTL is beyond <c>max_ttl</c> (or below
    /// <c>min_ttl</c>), in text and JSON (<c>followed_ttl</c>); an answer within both is printed as it came.
    /// </summary>
    [Theory]
    [InlineData(31_536_000, "max_ttl: 10m", "; followed as 10m, max_ttl", 600)]
    [InlineData(5, "min_ttl: 20s", "; followed as 20s, min_ttl", 20)]
    [InlineData(300, "min_ttl: 20s", "", null)]
    public void PlanSaysAsWhatTtlTheDaemonFollowsAnAnswer(int ttl, string setting, string said, int? followed)
    {
        var (net, dns) = Start(ttl, ("cdn.test", "198.51.100.10"));
        using (net)
        using (dns)
        {
            WithPolicyFile(policy =>
            {
                File.WriteAllText(policy, $"version: 1\negress:\n  dns:\n    resolvers: [{ResolverAddress}]\n    {setting}\n  allow:\n    - name: web\n      to: [cdn.test]\n      tcp: [443]\n");
                var plan = CliRunner.Run($"plan {policy} --netns {net.Agent.Name}");
                Assert.True(plan.ExitCode == 0, plan.Stderr);
                string expected = $"#   cdn.test -> 198.51.100.10 (ttl {ttl}s{said}) (DNS via {ResolverAddress}:53)";
                Assert.True(plan.Stdout.Contains(expected), $"plan does not show '{expected}':\n{plan.Stdout}");
                var json = CliRunner.Run($"plan {policy} --netns {net.Agent.Name} --output json");
                using var document = System.Text.Json.JsonDocument.Parse(json.Stdout);
                var address = document.RootElement.GetProperty("names")[0].GetProperty("addresses")[0];
                Assert.Equal(ttl, address.GetProperty("ttl").GetInt64());
                Assert.Equal(followed, address.TryGetProperty("followed_ttl", out var value) ? value.GetInt32() : null);
            });
        }
    }

    private static async Task WaitForAnswer(ITtlHostResolver resolver, string address)
    {
        for (int i = 0; i < 50; i++)
        {
            var answer = await resolver.LookupAsync("cdn.test", CancellationToken.None);
            if (answer.Addresses.Any(a => a.Address.ToString() == address))
                return;
            await Task.Delay(100);
        }
        Assert.Fail($"dnsmasq did not answer {address} after SIGHUP");
    }
}
