using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// Watch mode (no table ownership): a repair replaces the whole table, and the daemon puts its own running state back
/// right after: a followed name's current addresses (here, the address the name moved to after start-up, which the
/// policy file's compile does not hold) are re-added with their expiry. Real dnsmasq in the world namespace.
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
            grace: 60s
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

            net.Agent.Nft("add rule inet netlinkfence output meta l4proto tcp accept");
            // The line comes after the re-add's commit: at this point the kernel holds the address again.
            Assert.True(daemon.WaitForLog("repair: the current addresses of 1 followed name(s) re-added"), daemon.Log);
            string listing = net.Agent.Nft("list table inet netlinkfence");
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(listing, $@"{New.Replace(".", "\\.")} \. tcp \. 443 [^,}}]*expires"), listing + daemon.Log);
            Assert.DoesNotContain("meta l4proto tcp accept", listing);
        }
        finally
        {
            File.Delete(policy);
        }
    }
}
