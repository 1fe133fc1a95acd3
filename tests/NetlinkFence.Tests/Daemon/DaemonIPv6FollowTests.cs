using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// A followed name that had only IPv4 addresses when the policy was compiled gains an IPv6 address: the policy has no
/// IPv6 peer, so no IPv6 neighbour discovery, and the refresh alone would add an address nobody can reach. The daemon
/// reloads once, which compiles the housekeeping in, and the new address is reached. Real dnsmasq in the world.
/// </summary>
public sealed class DaemonIPv6FollowTests
{
    private const string Resolver = "198.51.100.53", MirrorV4 = "198.51.100.60", MirrorV6 = "2001:db8::60";

    [Fact]
    public void A_followed_names_first_IPv6_address_reloads_the_policy_with_neighbour_discovery_and_is_reached()
    {
        using var net = new AgentAndWorld(Resolver, MirrorV4, MirrorV6);
        net.ListenTcp(MirrorV4, 443);
        net.ListenTcp(MirrorV6, 443);
        using var dns = new Dnsmasq(net.World, Resolver, ttlSeconds: 1, ("mirror.test", MirrorV4));
        dns.WaitUntilAnswering(net.Agent, "mirror.test");
        string policy = DaemonTests.WritePolicy($"version: 1\negress:\n  dns:\n    resolvers: [{Resolver}]\n    min_ttl: 1s\n    grace: 30s\n"
            + "  allow:\n    - name: mirror\n      to: [mirror.test]\n      tcp: [443]\n");
        try
        {
            using var daemon = DaemonProcess.Start(policy, net.Agent);
            daemon.WaitReady();
            Assert.True(net.TcpReachable(MirrorV4, 443, AgentAndWorld.ExpectedThroughMs), "the name's IPv4 address is unreachable");
            Assert.DoesNotContain("nd-neighbor-solicit", net.Agent.Nft("list chain inet netlinkfence output"));

            dns.SetHosts(("mirror.test", MirrorV4), ("mirror.test", MirrorV6));
            Assert.True(daemon.WaitForLog("dns: mirror.test has IPv6 addresses now, and the running policy has no IPv6 peer", 60), daemon.Log);
            Assert.True(daemon.WaitForLog("reloaded (mirror.test has IPv6 addresses): atomic replace of the table", 60), daemon.Log);
            Assert.Contains("nd-neighbor-solicit", net.Agent.Nft("list chain inet netlinkfence output"));
            net.Agent.Exec("ip", "-6 neigh flush all");
            Assert.True(net.TcpReachable(MirrorV6, 443, AgentAndWorld.ExpectedThroughMs), "the name's new IPv6 address is unreachable: " + net.Agent.Nft("list ruleset"));
            Assert.True(net.TcpReachable(MirrorV4, 443, AgentAndWorld.ExpectedThroughMs));
            Assert.DoesNotContain("failed", daemon.Log);
            Assert.DoesNotContain("refused", daemon.Log);
            daemon.Signal("TERM");
            Assert.Equal(0, daemon.WaitExit());
        }
        finally
        {
            File.Delete(policy);
        }
    }
}
