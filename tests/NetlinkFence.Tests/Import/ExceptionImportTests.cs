using NetlinkFence.Policy;
using NetlinkFence.Policy.Import;
using static NetlinkFence.Tests.Import.ImportTestSupport;

namespace NetlinkFence.Tests.Import;

/// <summary>
/// Two orderings an allow-list cannot say line by line, but can say exactly: a DROP of some addresses before an ACCEPT
/// that takes them in (the accept without those addresses), and RETURNs by address type that together return every
/// packet INPUT sees (ufw's <c>ufw-not-local</c>: the chain ends there, its DROP is never reached). Traffic proof:
/// <c>UfwDifferentialTests</c>.
/// </summary>
public sealed class ExceptionImportTests
{
    private static string Peers(AllowEntry entry) => string.Join(" ", entry.Peers.Select(p => p.Network));

    [Fact]
    public void A_drop_of_addresses_before_an_accept_leaves_them_out_of_its_entry()
    {
        var result = ImportText(Filter("-A OUTPUT -d 198.51.100.7/32 -j DROP\n-A OUTPUT -d 198.51.100.0/24 -p tcp -m multiport --dports 80,443 -j ACCEPT"));
        var entry = Assert.Single(result.Policy.Egress);
        Assert.Equal("198.51.100.0/30 198.51.100.4/31 198.51.100.6/32 198.51.100.8/29 198.51.100.16/28 198.51.100.32/27 198.51.100.64/26 198.51.100.128/25", Peers(entry));
        Assert.Equal([new PortRange(80, 80), new PortRange(443, 443)], entry.Tcp);
        // Written as the two ranges left, the exception cited before the accept (the entry is named after the accept).
        Assert.Contains("    # r.rules:9: -A OUTPUT -d 198.51.100.7/32 -j DROP\n    # r.rules:10: -A OUTPUT -d 198.51.100.0/24 -p tcp -m multiport --dports 80,443 -j ACCEPT\n"
            + "    - name: allow-line-10\n      to: [198.51.100.0-198.51.100.6, 198.51.100.8-198.51.100.255]\n", result.Yaml);
        Assert.Contains("r.rules:9: denied (an exception to line 10's allow entry, which leaves its addresses out)", result.Yaml);
        Assert.Empty(result.NotImported);
    }

    [Fact]
    public void An_exception_to_any_destination_and_on_input_is_taken_the_same_way()
    {
        var any = ImportText(Filter("-A OUTPUT -d 198.51.100.7 -j DROP\n-A OUTPUT -p udp --dport 123 -j ACCEPT"));
        Assert.Contains("to: [0.0.0.0-198.51.100.6, 198.51.100.8-255.255.255.255]", any.Yaml);
        var input = ImportText(Filter("-A INPUT -s 10.20.9.9 -j DROP\n-A INPUT -s 10.20.0.0/16 -p tcp --dport 22 -j ACCEPT"));
        Assert.Contains("from: [10.20.0.0-10.20.9.8, 10.20.9.10-10.20.255.255]", input.Yaml);
        // A deny of the accept's own protocol and a port range holding its ports takes away just the addresses, too.
        var port = ImportText(Filter("-A OUTPUT -d 198.51.100.0/25 -p tcp --dport 400:500 -j DROP\n-A OUTPUT -d 198.51.100.0/24 -p tcp --dport 443 -j ACCEPT"));
        Assert.Equal("198.51.100.128/25", Peers(Assert.Single(port.Policy.Egress)));
    }

    [Fact]
    public void An_accept_whose_every_address_is_denied_before_it_allows_nothing()
    {
        var result = ImportText(Filter("-A OUTPUT -d 198.51.100.0/24 -j DROP\n-A OUTPUT -d 198.51.100.0/25 -p tcp --dport 443 -j ACCEPT"));
        Assert.Empty(result.Policy.Egress);
        Assert.Contains("r.rules:10: no effect (allows nothing: line(s) 9 before it deny every address it accepts)", result.Yaml);
    }

    [Theory]
    [InlineData("-A OUTPUT -d 198.51.100.7 -p tcp --dport 443 -j DROP", "-p tcp -m multiport --dports 80,443")] // some of its ports only
    [InlineData("-A OUTPUT -d 198.51.100.7 -m conntrack --ctstate NEW -j DROP", "-p tcp --dport 443")] // some states
    [InlineData("-A OUTPUT -d 198.51.100.7 -m owner --uid-owner 1000 -j DROP", "-p tcp --dport 443")] // one user's
    [InlineData("-A OUTPUT -d 198.51.100.7 -m limit --limit 1/s -j DROP", "-p tcp --dport 443")] // some packets
    public void A_drop_that_takes_more_than_addresses_from_the_accept_is_still_refused(string drop, string accept)
    {
        var e = Fails(Filter($"{drop}\n-A OUTPUT -d 198.51.100.0/24 {accept} -j ACCEPT"));
        Assert.Contains(e.Diagnostics, d => d.Location.Line == FirstRuleLine && d.Message.Contains("takes away part of what that line accepts"));
    }

    [Fact]
    public void A_drop_with_a_condition_the_importer_does_not_read_says_which_when_it_shadows_an_accept()
    {
        // A packet length match: taken to match every packet, named as the reason.
        var e = Fails(Filter("-A OUTPUT -m length --length 0:100 -j DROP\n-A OUTPUT -d 198.51.100.0/24 -p tcp --dport 443 -j ACCEPT"));
        Assert.Contains(e.Diagnostics, d => d.Location.Line == FirstRuleLine
            && d.Message.Contains("DROP before line 10's ACCEPT may take away part of what that line accepts (match '-m length' is not one the importer understands, so it counts as matching every packet)"));
        Assert.Contains(e.Diagnostics, d => d.Location.Line == FirstRuleLine + 1 && d.Message.Contains("line 9 before it may drop part of what it accepts"));
    }

    private const string NotLocal = ":not-local - [0:0]\n-A INPUT -j not-local\n";

    [Fact]
    public void Returns_by_address_type_that_return_every_input_packet_end_their_chain()
    {
        var result = ImportText(Filter(NotLocal + "-A INPUT -s 10.20.0.0/16 -p tcp --dport 22 -j ACCEPT\n"
            + "-A not-local -m addrtype --dst-type LOCAL -j RETURN\n-A not-local -m addrtype --dst-type MULTICAST,BROADCAST -j RETURN\n-A not-local -j DROP"));
        Assert.Equal("10.20.0.0/16", Peers(Assert.Single(result.Policy.Input)));
        Assert.Contains("r.rules:14: no effect (never reached: lines 12, 13 before it return every packet INPUT sees", result.Yaml);
        Assert.Contains("r.rules:12: no effect (with lines 12, 13, returns every packet INPUT sees", result.Yaml);
        Assert.Empty(result.NotImported);
    }

    [Theory]
    [InlineData("-A not-local -m addrtype --dst-type LOCAL -j RETURN\n-A not-local -m addrtype --dst-type MULTICAST -j RETURN")] // no BROADCAST
    [InlineData("-A not-local -m addrtype ! --dst-type UNICAST -j RETURN\n-A not-local -m addrtype --dst-type LOCAL,MULTICAST,BROADCAST -p tcp -j RETURN")]
    [InlineData("-A not-local -m addrtype --dst-type LOCAL -j RETURN\n-A not-local -p udp -j ACCEPT\n-A not-local -m addrtype --dst-type MULTICAST,BROADCAST -j RETURN")] // not one run
    public void Returns_that_leave_some_input_packets_to_the_drop_are_refused(string returns)
    {
        var e = Fails(Filter(NotLocal + "-A INPUT -s 10.20.0.0/16 -p tcp --dport 22 -j ACCEPT\n" + returns + "\n-A not-local -j DROP"));
        Assert.Contains(e.Diagnostics, d => d.Message.Contains("RETURN skips the rest of its chain for some packets"));
    }

    [Fact]
    public void Address_type_returns_on_output_are_not_taken_as_the_end_of_the_chain()
    {
        // OUTPUT's packets go anywhere: LOCAL, MULTICAST and BROADCAST are not all of them.
        var e = Fails(Filter(":nl - [0:0]\n-A OUTPUT -j nl\n-A OUTPUT -d 203.0.113.50 -p tcp --dport 443 -j ACCEPT\n"
            + "-A nl -m addrtype --dst-type LOCAL -j RETURN\n-A nl -m addrtype --dst-type MULTICAST,BROADCAST -j RETURN\n-A nl -j DROP"));
        Assert.Contains(e.Diagnostics, d => d.Message.Contains("RETURN skips the rest of its chain for some packets"));
    }

    [Fact]
    public void A_dst_type_without_its_match_is_an_error()
    {
        var d = Assert.Single(Fails(Filter("-A INPUT --dst-type LOCAL -j ACCEPT")).Diagnostics);
        Assert.Equal(("iptables-bad-value", FirstRuleLine), (d.Code, d.Location.Line));
        Assert.Contains("--dst-type needs '-m addrtype' before it", d.Message);
    }
}
