using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Traffic;

/// <summary>
/// Real packets: after apply, the agent reaches exactly what the policy names, over IPv4 and IPv6, replies
/// come back (stateful rules), and every denied attempt lands in egress_denied's counter.
/// </summary>
public sealed class EgressTrafficTests
{
    private const string Policy = """
        version: 1
        define:
          ironclaw: 203.0.113.50
          resolvers: [192.168.1.10]
          collector: 192.168.1.20
        hosts:
          api.ironclaw.example: [$ironclaw, "2001:db8::50"]
        log:
          prefix: "EGRESS-DENIED: "
        egress:
          dns:
            resolvers: $resolvers
          allow:
            - name: ironclaw-control
              to: [api.ironclaw.example]
              tcp: [443]
            - name: syslog-tls
              to: [$collector]
              tcp: [6514]
        """;

    [Fact]
    public async Task AllowedFlowsPassDeniedFlowsAreDroppedAndCounted()
    {
        using var net = new AgentAndWorld("203.0.113.50", "192.168.1.10", "192.168.1.20", "198.51.100.7", "2001:db8::50", "2001:db8::77");
        net.ListenTcp("203.0.113.50", 443);
        net.ListenTcp("203.0.113.50", 8443);
        net.ListenTcp("192.168.1.20", 6514);
        net.ListenTcp("192.168.1.20", 514);
        net.ListenTcp("198.51.100.7", 443);
        net.ListenTcp("192.168.1.10", 53);
        net.ListenUdp("192.168.1.10", 53);
        net.ListenUdp("198.51.100.7", 53);
        net.ListenTcp("2001:db8::50", 443);
        net.ListenTcp("2001:db8::50", 8443);
        net.ListenTcp("2001:db8::77", 443);

        // Before the policy: everything is open (proves the listeners work, so a "denied" below means the firewall).
        Assert.True(net.TcpReachable("203.0.113.50", 8443, AgentAndWorld.ExpectedThroughMs));
        Assert.True(net.TcpReachable("2001:db8::77", 443, AgentAndWorld.ExpectedThroughMs));

        var compiled = PolicyCompiler.Compile(await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(Policy, "traffic.yaml"), new FixedResolver()));
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, compiled);

        var allowed = new (string What, Func<bool> Probe)[]
        {
            ("IronClaw API 203.0.113.50:443", () => net.TcpReachable("203.0.113.50", 443)),
            ("IronClaw API [2001:db8::50]:443", () => net.TcpReachable("2001:db8::50", 443)),
            ("syslog-TLS 192.168.1.20:6514", () => net.TcpReachable("192.168.1.20", 6514)),
            ("DNS/udp 192.168.1.10:53", () => net.UdpReachable("192.168.1.10", 53)),
            ("DNS/tcp 192.168.1.10:53", () => net.TcpReachable("192.168.1.10", 53)),
        };
        var denied = new (string What, Func<bool> Probe)[]
        {
            ("IronClaw data port 203.0.113.50:8443 (not named)", () => net.TcpReachable("203.0.113.50", 8443, 700)),
            ("IronClaw data port [2001:db8::50]:8443", () => net.TcpReachable("2001:db8::50", 8443, 700)),
            ("plain syslog 192.168.1.20:514", () => net.TcpReachable("192.168.1.20", 514, 700)),
            ("unlisted host 198.51.100.7:443", () => net.TcpReachable("198.51.100.7", 443, 700)),
            ("unlisted host [2001:db8::77]:443", () => net.TcpReachable("2001:db8::77", 443, 700)),
            ("DNS to a non-resolver 198.51.100.7:53", () => net.UdpReachable("198.51.100.7", 53, 700)),
        };
        foreach (var (what, probe) in allowed)
            Assert.True(probe(), $"allowed flow blocked: {what}");
        foreach (var (what, probe) in denied)
            Assert.False(probe(), $"denied flow got through: {what}");

        var live = await nft.ListTableAsync(NftFamily.Inet, "netlinkfence");
        // The last rule's counter drop counts everything dropped (the first rule counts self-test probes only).
        var dropCounter = live!.RulesOf("egress_denied").Last().Expressions.OfType<CounterExpression>().Single();
        Assert.True(dropCounter.Packets >= (ulong)denied.Length, $"egress_denied counted {dropCounter.Packets} packets for {denied.Length} denied attempts");
        // Per-entry traffic is counted per element (the allow sets' counter expression): the first packet of each
        // allowed connection passes the allow rule and counts on the element that matched it.
        var elements = live.Sets.Where(s => s.Set.Name is "allow_v4" or "allow_v6").SelectMany(s => s.Elements).ToList();
        foreach (string entry in new[] { "ironclaw-control", "syslog-tls" })
        {
            var counted = elements.Where(e => e.Comment == entry).Select(e => e.Counter!).ToList();
            Assert.NotEmpty(counted);
            Assert.True(counted.Sum(c => (long)c.Packets) >= (entry == "ironclaw-control" ? 2 : 1), $"the {entry} elements counted no packets");
        }
        var ruleCounters = live.RulesOf("output").Where(r => r.Comment == "allow").SelectMany(r => r.Expressions).OfType<CounterExpression>();
        Assert.True(ruleCounters.Sum(c => (long)c.Packets) >= 3, "the allow rules counted no packets");
        // Per entry: the allow sets' per-element counters, summed by the elements' comments.
        var entries = await (await LivePolicy.AttachAsync(nft, compiled.Source)).ReadCountersAsync();
        Assert.True(Assert.Single(entries, e => e.Entry.Name == "ironclaw-control").Packets >= 2, "the ironclaw-control elements counted no packets");
    }

    [Fact]
    public async Task AnAddressRangeAllowsItsFirstAndLastAddressAndNotTheOnesBesideIt()
    {
        string[] inside = ["198.51.100.9", "198.51.100.12", "2001:db8::9", "2001:db8::c"];
        string[] beside = ["198.51.100.8", "198.51.100.13", "2001:db8::8", "2001:db8::d"];
        using var net = new AgentAndWorld([.. inside, .. beside]);
        foreach (string address in inside.Concat(beside))
            net.ListenTcp(address, 443);
        Assert.True(net.TcpReachable("198.51.100.13", 443, AgentAndWorld.ExpectedThroughMs)); // open before the policy

        const string policy = """
            version: 1
            egress:
              allow:
                - name: provider
                  to: [198.51.100.9-198.51.100.12, "2001:db8::9 - 2001:db8::c"]
                  tcp: [443]
            """;
        var compiled = PolicyCompiler.Compile(await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(policy, "range.yaml"), new FixedResolver()));
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, compiled);

        foreach (string address in inside)
            Assert.True(net.TcpReachable(address, 443, AgentAndWorld.ExpectedThroughMs), $"{address} is in the range but was blocked");
        foreach (string address in beside)
            Assert.False(net.TcpReachable(address, 443, 700), $"{address} is outside the range but got through");
    }
}
