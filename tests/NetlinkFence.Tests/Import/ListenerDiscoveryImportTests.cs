using NetlinkFence.Policy;
using NetlinkFence.Policy.Import;
using static NetlinkFence.Tests.Import.ImportTestSupport;

namespace NetlinkFence.Tests.Import;

/// <summary>
/// IPv6 multicast listener discovery (MLD): built into the policy beside neighbour discovery, so a ruleset's MLD
/// accepts (ufw's, for one) are accounted as built in, one the built-in does not cover is refused at its line, and a
/// ruleset that sent no reports is told that the policy does.
/// </summary>
public sealed class ListenerDiscoveryImportTests
{
    private const string Https = "-A OUTPUT -d 2001:db8::50/128 -p tcp -m tcp --dport 443 -j ACCEPT\n";
    private const string Nd = NeighbourDiscoveryAccepts;
    private const int MldLine = FirstRuleLine + 5;

    // As ufw's before6.rules writes them (Debian 12's ufw 0.36.2).
    private const string UfwMldIn = "-A INPUT -s fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type 130 -j ACCEPT\n"
        + "-A INPUT -s fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type 131 -j ACCEPT\n"
        + "-A INPUT -s fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type 132 -j ACCEPT\n"
        + "-A INPUT -s fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type 143 -j ACCEPT\n";
    private const string MldOut = "-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 143 -m hl --hl-eq 1 -j ACCEPT\n";
    private const string UfwMldOut = "-A OUTPUT -s fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type 131 -j ACCEPT\n"
        + "-A OUTPUT -s fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type 143 -j ACCEPT\n";

    [Fact]
    public void Listener_discovery_accepts_are_built_in()
    {
        var result = ImportV6(Nd + UfwMldIn + MldOut + Https);
        Assert.Empty(result.NotImported);
        Assert.Single(result.Policy.Egress);
        Assert.Contains($"#   r6.rules:{MldLine}: built in (multicast listener discovery (type 130); the policy also requires hop limit 1 and a link-local source", result.Yaml);
        Assert.Contains($"#   r6.rules:{MldLine + 1}: built in (multicast listener discovery (type 131); the policy also requires hop limit 1", result.Yaml);
        Assert.Contains($"#   r6.rules:{MldLine + 2}: no effect (multicast listener discovery (type 132) is sent to the routers' groups", result.Yaml);
        Assert.Contains($"#   r6.rules:{MldLine + 3}: no effect (multicast listener discovery (type 143)", result.Yaml);
        Assert.Contains($"#   r6.rules:{MldLine + 4}: built in (multicast listener discovery (type 143))", result.Yaml);
        Assert.Single(result.Notes, n => n.Code == "ipv6-listener-discovery");
        Assert.DoesNotContain(result.Notes, n => n.Code == "listener-reports-sent");
    }

    [Fact]
    public void Reports_from_the_link_local_address_as_ufw_accepts_them_are_built_in()
    {
        var result = ImportV6(Nd + UfwMldOut + Https);
        Assert.Empty(result.NotImported);
        Assert.Contains($"#   r6.rules:{MldLine}: built in (multicast listener discovery (type 131); the policy also requires hop limit 1 and a multicast destination, and sends the reports the kernel makes from :: too", result.Yaml);
        Assert.Contains($"#   r6.rules:{MldLine + 1}: built in (multicast listener discovery (type 143)", result.Yaml);
        Assert.DoesNotContain(result.Notes, n => n.Code == "listener-reports-sent");
    }

    [Fact]
    public void Without_report_accepts_the_policy_sending_them_is_a_warning()
    {
        var result = ImportV6(Nd + UfwMldIn + Https);
        var note = Assert.Single(result.Notes, n => n.Code == "listener-reports-sent");
        Assert.Equal(Severity.Warning, note.Severity);
        Assert.Contains("a switch that snoops MLD", note.Message);
        Assert.Empty(result.NotImported);
    }

    [Fact]
    public void Without_ipv6_peers_nothing_is_said_of_reports()
    {
        var result = ImportV6(UfwMldIn);
        Assert.Empty(result.NotImported);
        Assert.DoesNotContain(result.Notes, n => n.Code == "listener-reports-sent");
        Assert.Contains(result.Notes, n => n.Code == "ipv6-neighbour-discovery" && n.Message.Contains("no IPv6 peer") && n.Location.Line == FirstRuleLine);
    }

    [Theory]
    [InlineData("-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 130 -j ACCEPT", "sends multicast listener queries")]
    [InlineData("-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 130 -m hl --hl-eq 64 -j ACCEPT", "hop limit 64")]
    [InlineData("-A INPUT -s 2001:db8::/64 -p ipv6-icmp -m icmp6 --icmpv6-type 130 -j ACCEPT", "for some addresses only")]
    [InlineData("-A OUTPUT -d ff02::16 -p ipv6-icmp -m icmp6 --icmpv6-type 143 -j ACCEPT", "for some addresses only")]
    [InlineData("-A OUTPUT -s 2001:db8::2 -p ipv6-icmp -m icmp6 --icmpv6-type 143 -j ACCEPT", "for some addresses only")]
    [InlineData("-A OUTPUT -s fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type 130 -j ACCEPT", "sends multicast listener queries")]
    [InlineData("-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 143 -m limit --limit 5/sec -j ACCEPT", "rate limit")]
    public void An_accept_beyond_the_built_in_listener_discovery_is_refused_at_its_line(string rule, string why)
    {
        var e = Assert.Throws<PolicyException>(() => ImportV6(Nd + Https + rule));
        var error = Assert.Single(e.Diagnostics, d => d.Location.Line == FirstRuleLine + 6);
        Assert.Equal("unsupported-rule", error.Code);
        Assert.Contains(why, error.Message);
        Assert.Contains("the policy's built-in multicast listener discovery", error.Message);
    }
}
