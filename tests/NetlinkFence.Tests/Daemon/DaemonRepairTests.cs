using NetlinkFence.Nftables;
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

    [Fact]
    public async Task A_repair_the_kernel_refuses_is_tried_again_until_it_lands_with_no_change_in_between()
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(DaemonTests.Policy());
        try
        {
            using var daemon = DaemonProcess.Start(policy, ns, "--no-owner");
            daemon.WaitReady();
            // Another process replaces the table, in one batch, with its own that accepts everything and that it owns
            // (owner|persist): while its socket is open, the kernel refuses the daemon's repair (EPERM).
            var taken = new Table(NftFamily.Inet, DaemonTests.Table) { Flags = Table.OwnerFlag | Table.PersistFlag };
            await using (var other = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name }))
            {
                await other.CommitAsync(new Transaction().DestroyTable(taken).AddTable(taken)
                    .AddChain(new Chain(NftFamily.Inet, DaemonTests.Table, "open", new ChainHook("filter", HookPoint.Output, 0, ChainPolicy.Accept))));
                Assert.True(daemon.WaitForLog($"repairing table inet {DaemonTests.Table} failed"), daemon.Log);
                Assert.True(daemon.WaitForLog("trying again to repair"), daemon.Log); // a retry while it is still owned fails too
                Assert.Contains(daemon.Notifications, n => n.Contains("STATUS=", StringComparison.Ordinal) && n.Contains("REPAIR FAILING since", StringComparison.Ordinal));
                Assert.Contains("chain open", ns.Nft($"list table inet {DaemonTests.Table}"));
            }
            // Its socket is closed: the table stays (persist) with no owner, and nothing the monitor sees happens. Only
            // a retry puts the policy back.
            Assert.True(DaemonProcess.WaitUntil(() => !ns.Nft($"list table inet {DaemonTests.Table}").Contains("chain open"), 90),
                "the foreign table stayed: " + ns.Nft($"list table inet {DaemonTests.Table}") + daemon.Log);
            Assert.True(daemon.WaitForLog("on a retry"), daemon.Log);
            // systemd's status line says so while it lasts, and no longer once the repair landed.
            Assert.True(DaemonProcess.WaitUntil(() => daemon.Notifications.Last(n => n.Contains("STATUS=", StringComparison.Ordinal)) is { } last
                && !last.Contains("REPAIR FAILING", StringComparison.Ordinal), 30), string.Join("\n", daemon.Notifications));
            var table = await DaemonTests.ReadTableAsync(ns);
            Assert.Equal(0u, table!.Flags); // the daemon's own table again (watch mode: no flags)
            Assert.Contains("chain output", ns.Nft($"list table inet {DaemonTests.Table}"));
        }
        finally
        {
            File.Delete(policy);
        }
    }
}
