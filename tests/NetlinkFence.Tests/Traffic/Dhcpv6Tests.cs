using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Traffic;

/// <summary>
/// A host that takes its IPv6 address from DHCPv6 (as cloud instances do) needs two entries. Unlike DHCPv4, ISC
/// dhclient speaks DHCPv6 over an ordinary UDP socket from its link-local address: its Solicit goes to the
/// All_DHCP_Relay_Agents_and_Servers group (ff02::1:2, UDP 547), and the server answers from its own link-local
/// address to the client's port 546, which conntrack cannot pair with a datagram sent to a group. Real components:
/// Debian's dnsmasq serving DHCPv6 in the world's namespace, dhclient -6 in the agent's with a policy applied.
/// </summary>
public sealed class Dhcpv6Tests
{
    private const string Web = "    - { name: web, to: [\"2001:db8:77::50\"], tcp: [443] }\n";
    private const string Servers = "    - { name: dhcpv6-servers, to: [\"ff02::1:2\"], udp: [547] }\n";
    private const string Replies = "input:\n  allow:\n    - { name: dhcpv6-replies, from: [\"fe80::/10\"], udp: [546] }\n";

    private static string Apply(DhcpPair pair, string allow, string input = "") => pair.Apply($"version: 1\negress:\n  allow:\n{Web}{allow}{input}");

    private static bool Bound(DhcpPair pair) => pair.EventsSoFar().Any(e => e.StartsWith("BOUND6 ", StringComparison.Ordinal));

    [Fact]
    public void Without_entries_the_solicit_is_denied()
    {
        using var pair = new DhcpPair(DhcpService.V6);
        string policy = Apply(pair, "");
        pair.StartClient();
        Assert.True(pair.WaitForClientLog("send_packet6: Operation not permitted", 60), $"the Solicit was not refused:\n{pair.ClientLog}");
        Assert.True(pair.Denied(policy, "egress_denied") > 0, "the denied Solicit is not counted in egress_denied");
        Assert.False(Bound(pair), $"a lease was taken although the Solicit was denied:\n{pair.ClientLog}");
    }

    [Fact]
    public void With_the_servers_group_but_no_input_entry_the_answer_is_denied()
    {
        using var pair = new DhcpPair(DhcpService.V6);
        string policy = Apply(pair, Servers);
        pair.StartClient();
        // The Solicit goes out; dnsmasq's Advertise comes back from its link-local address and is dropped on input.
        Assert.True(pair.WaitForClientLog("XMT: Solicit on va", 60), pair.ClientLog);
        Assert.True(Poll.Until(() => pair.Denied(policy, "ingress_denied") > 0, 60, everyMilliseconds: 500), $"the server's answer was not dropped on input:\n{pair.ClientLog}");
        Assert.DoesNotContain("Operation not permitted", pair.ClientLog);
        Assert.False(Bound(pair), $"a lease was taken although the answer was denied:\n{pair.ClientLog}");
    }

    [Fact]
    public void With_both_entries_a_lease_is_taken_and_nothing_is_denied()
    {
        using var pair = new DhcpPair(DhcpService.V6);
        string policy = Apply(pair, Servers, Replies);
        pair.StartClient();
        Assert.True(pair.WaitForEvents(1, 60), $"no lease within 60 s:\n{pair.ClientLog}");
        string bound = Assert.Single(pair.EventsSoFar(), e => e.StartsWith("BOUND6 ", StringComparison.Ordinal));
        Assert.StartsWith("BOUND6 2001:db8:77::", bound);
        Assert.Contains($"inet6 {bound.Split(' ')[1]}/128", pair.Agent.Exec("ip", "-o -6 addr show dev va"));
        Assert.Equal(0, pair.Denied(policy, "egress_denied"));
        Assert.Equal(0, pair.Denied(policy, "ingress_denied"));
    }
}
