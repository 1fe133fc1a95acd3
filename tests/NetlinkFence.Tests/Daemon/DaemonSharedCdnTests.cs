using System.Text.RegularExpressions;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// The daemon follows twelve names that a CDN moves onto one address (more entries than one element's userdata can
/// name): every refresh round commits, nothing is logged as failed, the traffic flows, and the old addresses expire.
/// Compiling the policy while the names share that address (here a SIGHUP reload) is the located
/// shared-destination-overflow error, and the running policy stays. Real dnsmasq in the world namespace.
/// </summary>
public sealed partial class DaemonSharedCdnTests
{
    private const string Resolver = "198.51.100.53", Cdn = "198.51.100.9";
    private const int Entries = 12;

    private static string Policy()
    {
        var yaml = new System.Text.StringBuilder($"version: 1\negress:\n  dns:\n    resolvers: [{Resolver}]\n    min_ttl: 1s\n    grace: 1s\n  allow:\n");
        for (int i = 0; i < Entries; i++)
            yaml.Append($"    - name: cdn-service-{i:00}\n      to: [name{i}.cdn.test]\n      tcp: [443]\n");
        return yaml.ToString();
    }

    private static (string, string)[] Hosts(Func<int, string> address) =>
        Enumerable.Range(0, Entries).Select(i => ($"name{i}.cdn.test", address(i))).ToArray();

    [Fact]
    public void Twelve_names_moving_onto_one_address_are_followed_and_a_reload_then_is_refused_with_the_location()
    {
        using var net = new AgentAndWorld(Resolver, Cdn);
        net.ListenTcp(Cdn, 443);
        // At start each name has an address of its own: the policy compiles.
        using var dns = new Dnsmasq(net.World, Resolver, ttlSeconds: 3, Hosts(i => $"198.51.100.{20 + i}"));
        dns.WaitUntilAnswering(net.Agent, "name0.cdn.test");
        string policy = DaemonTests.WritePolicy(Policy());
        try
        {
            using var daemon = DaemonProcess.Start(policy, net.Agent);
            daemon.WaitReady();
            Assert.False(net.TcpReachable(Cdn, 443, 700), "nothing allows the CDN address yet");

            dns.SetHosts(Hosts(_ => Cdn));
            string Listing() => net.Agent.Nft("list set inet netlinkfence allow_v4");
            Assert.True(DaemonProcess.WaitUntil(() => Listing().Contains(Cdn) && !OldAddress().IsMatch(Listing()), 90),
                "the daemon never moved every name onto the CDN address: " + Listing() + daemon.Log);
            Assert.True(net.TcpReachable(Cdn, 443, AgentAndWorld.ExpectedThroughMs));
            Assert.DoesNotContain("failed", daemon.Log);
            Assert.DoesNotContain("overlap", daemon.Log);

            daemon.Signal("HUP");
            Assert.True(daemon.WaitForLog("reload (SIGHUP) refused: the running policy stays in place"), daemon.Log);
            Assert.Contains($"{policy}:8:7: error: {Entries} entries allow one and the same destination ({Cdn} . tcp . 443)", daemon.Log);
            Assert.False(daemon.HasExited, daemon.Log);
            Assert.True(net.TcpReachable(Cdn, 443, AgentAndWorld.ExpectedThroughMs));
            daemon.Signal("TERM");
            Assert.Equal(0, daemon.WaitExit());
        }
        finally
        {
            File.Delete(policy);
        }
    }

    /// <summary>One of the addresses the names had at start (198.51.100.20-31).</summary>
    [GeneratedRegex(@"198\.51\.100\.(2\d|3[01])\b")]
    private static partial Regex OldAddress();
}
