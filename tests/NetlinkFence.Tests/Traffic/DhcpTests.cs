using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Traffic;

/// <summary>
/// A host that takes its address from DHCP keeps it under a policy. Real components: Debian's dnsmasq serves DHCP in a
/// "world" namespace (a lease of 2 minutes, dnsmasq's least, renewal after 6 s and rebinding after 12 s), ISC dhclient
/// asks from the agent's namespace with a policy applied, its script only records each event and sets the address
/// there (never the host's resolv.conf). dhclient's first lease and its rebinding are broadcasts on a packet socket,
/// which no table sees; its renewal is a unicast UDP datagram to the server's port 67, which the policy denies unless
/// an entry allows it.
/// </summary>
public sealed class DhcpTests
{
    private const string Server = DhcpPair.Server;

    private static string Apply(DhcpPair pair, string allow) =>
        pair.Apply($"version: 1\negress:\n  allow:\n    - {{ name: control, to: [203.0.113.50], tcp: [443] }}\n{allow}");

    private static long EgressDenied(DhcpPair pair, string policy) => pair.Denied(policy, "egress_denied");

    [Fact]
    public void Without_an_entry_for_the_server_the_renewal_is_denied_and_the_lease_is_kept_by_rebinding()
    {
        using var pair = new DhcpPair();
        string policy = Apply(pair, "");
        pair.StartClient();
        Assert.True(pair.WaitForEvents(1, 60), $"no lease within 60 s under the policy:\n{pair.ClientLog}");
        string bound = Assert.Single(pair.EventsSoFar(), e => e.StartsWith("BOUND ", StringComparison.Ordinal));
        // The renewal (after 6 s) fails with EPERM from the policy; the rebinding (after 12 s) is a broadcast and works.
        Assert.True(pair.WaitForEvents(2, 90), $"the lease was not renewed or rebound within 90 s:\n{pair.ClientLog}");
        string log = pair.ClientLog;
        Assert.Contains($"on va to {Server} port 67", log);
        Assert.Contains("send_packet: Operation not permitted", log);
        Assert.True(EgressDenied(pair, policy) > 0, "the denied renewal is not counted in egress_denied");
        string kept = pair.EventsSoFar().Where(e => !e.StartsWith("PREINIT", StringComparison.Ordinal)).ElementAt(1);
        Assert.Matches("^(RENEW|REBIND) ", kept);
        Assert.Equal(bound.Split(' ')[1], kept.Split(' ')[1]);
        Assert.Contains($"inet {bound.Split(' ')[1]}/24", pair.Agent.Exec("ip", "-o addr show dev va"));
    }

    [Fact]
    public void With_an_entry_for_the_servers_port_67_the_renewal_goes_to_the_server_and_nothing_is_denied()
    {
        using var pair = new DhcpPair();
        string policy = Apply(pair, $"    - {{ name: dhcp-server, to: [{Server}], udp: [67] }}\n");
        pair.StartClient();
        Assert.True(pair.WaitForEvents(2, 90), $"no lease and renewal within 90 s:\n{pair.ClientLog}");
        string log = pair.ClientLog;
        int unicast = log.IndexOf($"on va to {Server} port 67", StringComparison.Ordinal);
        Assert.True(unicast >= 0, log);
        Assert.Contains("DHCPACK", log[unicast..]);
        Assert.DoesNotContain("Operation not permitted", log);
        Assert.Equal(0, EgressDenied(pair, policy));
        Assert.StartsWith("RENEW ", pair.EventsSoFar().Where(e => !e.StartsWith("PREINIT", StringComparison.Ordinal)).ElementAt(1));
    }
}
