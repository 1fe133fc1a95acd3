using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// Watch mode (no table ownership): a repair replaces the whole table, and the same transaction carries the daemon's own
/// running state: a followed name's current addresses (here, the address the name moved to after start-up, which the
/// policy file's compile does not hold) with their expiry, and not the address it was compiled with, which expired
/// (putting that one back would allow it for good). Real dnsmasq in the world namespace.
/// </summary>
public sealed class DaemonRepairTests
{
    private const string Resolver = "198.51.100.53", Old = "198.51.100.10", New = "198.51.100.11";

    private static string Policy() => $"""
        version: 1
        egress:
          dns:
            resolvers: [{Resolver}]
            min_ttl: 1s
            grace: 1s
          allow:
            - name: web
              to: [cdn.test]
              tcp: [443]
        """;

    [Fact]
    public void A_repair_keeps_a_followed_names_current_addresses()
    {
        using var net = new AgentAndWorld(Resolver, Old, New);
        using var dns = new Dnsmasq(net.World, Resolver, ttlSeconds: 5, ("cdn.test", Old));
        dns.WaitUntilAnswering(net.Agent, "cdn.test");
        string policy = DaemonTests.WritePolicy(Policy());
        try
        {
            using var daemon = DaemonProcess.Start(policy, net.Agent, "--no-owner");
            daemon.WaitReady();
            dns.SetHosts(("cdn.test", New));
            Assert.True(DaemonProcess.WaitUntil(() => net.Agent.Nft("list table inet netlinkfence").Contains(New), 60),
                "the daemon never followed the name to its new address: " + net.Agent.Nft("list table inet netlinkfence") + daemon.Log);

            // The old address expires in the kernel (TTL 5 s + grace 1 s after its last answer).
            Assert.True(DaemonProcess.WaitUntil(() => !net.Agent.Nft("list table inet netlinkfence").Contains(Old), 60),
                "the old address never expired: " + net.Agent.Nft("list table inet netlinkfence") + daemon.Log);

            net.Agent.Nft("add rule inet netlinkfence output meta l4proto tcp accept");
            // The line comes after the repair's commit.
            Assert.True(daemon.WaitForLog("in one transaction"), daemon.Log);
            Assert.Contains("that kept 1 followed name(s)", daemon.Log);
            string listing = net.Agent.Nft("list table inet netlinkfence");
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(listing, $@"{New.Replace(".", "\\.")} \. tcp \. 443 [^,}}]*expires"), listing + daemon.Log);
            Assert.DoesNotContain("meta l4proto tcp accept", listing);
            Assert.False(listing.Contains(Old), "the repair put back the address the name was compiled with: " + listing + daemon.Log);
        }
        finally
        {
            File.Delete(policy);
        }
    }
}
