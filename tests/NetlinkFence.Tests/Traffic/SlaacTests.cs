using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Traffic;

/// <summary>
/// A host that configures IPv6 from its router's advertisements (SLAAC) under a policy with IPv6 peers: the kernel's
/// router solicitation, the advertisement, duplicate address detection of the new address and the report of its
/// solicited-node group (MLD) all pass the policy's built-ins, and nothing is counted as denied. Real components:
/// Debian's dnsmasq sending router advertisements of its /64 from the world's namespace.
/// </summary>
public sealed class SlaacTests
{
    [Fact]
    public void An_address_from_router_advertisements_is_taken_and_nothing_is_denied()
    {
        using var pair = new DhcpPair(DhcpService.RouterAdvertisements);
        string policy = pair.Apply("version: 1\negress:\n  allow:\n    - { name: web, to: [\"2001:db8:77::50\"], tcp: [443] }\n");
        // The link went up before the policy: down and up again, so everything from the solicitation on happens under it
        // (a link that goes down loses its addresses).
        pair.Agent.Exec("ip", "link set va down");
        Assert.DoesNotContain("scope global", pair.Agent.Exec("ip", "-6 addr show dev va"));
        pair.Agent.Exec("ip", "link set va up");

        string Global() => pair.Agent.Exec("ip", "-6 addr show dev va scope global");
        Poll.Until(() => Global() is var a && a.Contains("inet6 2001:db8:77:", StringComparison.Ordinal) && !a.Contains("tentative", StringComparison.Ordinal), 60, everyMilliseconds: 250);
        Assert.Contains("inet6 2001:db8:77:", Global());
        Assert.DoesNotContain("tentative", Global());
        Assert.Equal(0, pair.Denied(policy, "egress_denied"));
        Assert.Equal(0, pair.Denied(policy, "ingress_denied"));
    }
}
