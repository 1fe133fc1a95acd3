using NetlinkFence.Policy;
using NetlinkFence.Policy.Import;
using static NetlinkFence.Tests.Import.ImportTestSupport;

namespace NetlinkFence.Tests.Import;

/// <summary>
/// IPv6 neighbour discovery: the policy has its own (built in when it has IPv6 peers), so the ruleset's ND accepts are
/// accounted as built in, an accept the built-in does not cover is refused, and a ruleset without ND (where no IPv6
/// flow on the link worked) is refused unless --partial, since the policy would make its IPv6 flows work.
/// </summary>
public sealed class NeighbourDiscoveryImportTests
{
    private const string Https = "-A OUTPUT -d 2001:db8::50/128 -p tcp -m tcp --dport 443 -j ACCEPT\n";
    private const string NdOut = "-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT\n-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j ACCEPT\n";
    private const string NdIn = "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl --hl-eq 255 -j ACCEPT\n-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type neighbour-advertisement -m hl --hl-eq 255 -j ACCEPT\n";
    private const string RaIn = "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 134 -m hl --hl-eq 255 -j ACCEPT\n";

    [Fact]
    public void Neighbour_discovery_accepts_are_built_in()
    {
        var result = ImportV6(NdOut + NdIn + RaIn + Https);
        Assert.Empty(result.NotImported);
        Assert.Single(result.Policy.Egress);
        for (int line = FirstRuleLine; line < FirstRuleLine + 5; line++)
            Assert.Contains($"#   r6.rules:{line}: built in (neighbour discovery (type ", result.Yaml);
        Assert.Contains("the policy also requires hop limit 255", result.Yaml);
        Assert.Single(result.Notes, n => n.Code == "ipv6-neighbour-discovery");
        Assert.DoesNotContain(result.Notes, n => n.Code == "router-advertisements-accepted");
    }

    [Fact]
    public void Without_router_advertisement_accepts_the_policy_accepting_them_is_a_warning()
    {
        var result = ImportV6(NdOut + NdIn + Https);
        var note = Assert.Single(result.Notes, n => n.Code == "router-advertisements-accepted");
        Assert.Equal(Severity.Warning, note.Severity);
    }

    [Fact]
    public void A_v6_ruleset_that_drops_neighbour_discovery_is_refused_unless_partial()
    {
        var e = Assert.Throws<PolicyException>(() => ImportFile("dual-stack.v4.rules", ipv6: "dual-stack.v6.rules"));
        var error = Assert.Single(e.Diagnostics);
        Assert.Equal(("dual-stack.v6.rules", 5), (Path.GetFileName(error.Location.File), error.Location.Line));
        Assert.Contains("the ruleset drops IPv6 neighbour discovery", error.Message);
        Assert.Contains("IPv6 on the link did not work under it", error.Message);
        Assert.Contains("lets the allowed IPv6 flows work", error.Message);

        var partial = ImportFile("dual-stack.v4.rules", partial: true, ipv6: "dual-stack.v6.rules");
        Assert.Contains("drops IPv6 neighbour discovery", Assert.Single(partial.NotImported).Message);
        Assert.Contains("drops IPv6 neighbour discovery", partial.Yaml);
    }

    [Fact]
    public void Only_inbound_neighbour_discovery_is_still_refused()
    {
        var e = Assert.Throws<PolicyException>(() => ImportV6(NdIn + Https));
        Assert.Contains("OUTPUT neighbour solicitation (135), OUTPUT neighbour advertisement (136))", Assert.Single(e.Diagnostics).Message);
    }

    [Fact]
    public void Without_ipv6_peers_the_policy_has_no_neighbour_discovery_and_nothing_is_refused()
    {
        var result = ImportV6(NdIn);
        Assert.Empty(result.NotImported);
        Assert.Contains(result.Notes, n => n.Code == "ipv6-neighbour-discovery" && n.Message.Contains("no IPv6 peer"));
        Assert.Empty(ImportV6("").NotImported);
    }

    [Theory]
    [InlineData("-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j ACCEPT", "sends router advertisements")]
    [InlineData("-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type router-solicitation -j ACCEPT", "accepts router solicitations")]
    [InlineData("-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl --hl-eq 64 -j ACCEPT", "hop limit 64")]
    [InlineData("-A OUTPUT -d fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT", "for some addresses only")]
    [InlineData("-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m limit --limit 5/sec -j ACCEPT", "rate limit")]
    [InlineData("-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT", "a policy has no ICMP entries")]
    [InlineData("-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl --hl-lt 2 -j ACCEPT", "--hl-lt")]
    public void An_accept_beyond_the_built_in_neighbour_discovery_is_refused_at_its_line(string rule, string why)
    {
        var e = Assert.Throws<PolicyException>(() => ImportV6(NdOut + NdIn + Https + rule));
        var error = Assert.Single(e.Diagnostics, d => d.Location.Line == FirstRuleLine + 5);
        Assert.Equal("unsupported-rule", error.Code);
        Assert.Contains(why, error.Message);
    }

    [Fact]
    public void An_invalid_drop_before_the_neighbour_discovery_accepts_takes_nothing_from_them()
    {
        // Conntrack leaves ND untracked (ufw drops INVALID before its ND accepts; the policy drops it before its own).
        var result = ImportV6("-A OUTPUT -m conntrack --ctstate INVALID -j DROP\n" + NdOut + NdIn + Https);
        Assert.Empty(result.NotImported);
        Assert.Contains($"#   r6.rules:{FirstRuleLine + 1}: built in (neighbour discovery (type 135)", result.Yaml);
    }

    [Theory]
    [InlineData("-A OUTPUT -m conntrack --ctstate UNTRACKED -j DROP")]
    [InlineData("-A OUTPUT -p ipv6-icmp -j DROP")]
    public void A_drop_that_takes_untracked_icmpv6_before_the_neighbour_discovery_accepts_is_refused(string drop)
    {
        // This ruleset drops ND, the policy would not.
        var e = Assert.Throws<PolicyException>(() => ImportV6(drop + "\n" + NdOut + NdIn + Https));
        Assert.Contains(e.Diagnostics, d => d.Location.Line == FirstRuleLine && d.Message.Contains($"line {FirstRuleLine + 1}"));
    }

    [Theory]
    [InlineData("-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 --hl-eq 255 -j ACCEPT", "needs '-m hl'")]
    [InlineData("-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl --hl-eq 256 -j ACCEPT", "not a number from 0 to 255")]
    public void A_bad_hop_limit_match_is_a_located_error(string rule, string why)
    {
        var e = Assert.Throws<PolicyException>(() => ImportV6(NdOut + rule));
        Assert.Contains(e.Diagnostics, d => d.Location.Line == FirstRuleLine + 2 && d.Message.Contains(why));
    }
}
