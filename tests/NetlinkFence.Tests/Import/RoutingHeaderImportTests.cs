using NetlinkFence.Policy;
using NetlinkFence.Policy.Import;
using static NetlinkFence.Tests.Import.ImportTestSupport;

namespace NetlinkFence.Tests.Import;

/// <summary>
/// <c>-m rt --rt-type 0 -j DROP</c>, which ufw puts before everything but loopback in its IPv6 chains: the policy drops
/// those packets itself, so the line is built in and no longer shadows the accepts after it; any other use of
/// <c>-m rt</c> is a condition the importer does not read.
/// </summary>
public sealed class RoutingHeaderImportTests
{
    private const string Nd = NeighbourDiscoveryAccepts;
    private const string Accepts = "-A OUTPUT -d 2001:db8::50/128 -p tcp -m tcp --dport 443 -j ACCEPT\n-A INPUT -s 2001:db8:20::/48 -p tcp -m tcp --dport 22 -j ACCEPT\n";
    private const string Drops = "-A OUTPUT -m rt --rt-type 0 -j DROP\n-A INPUT -m rt --rt-type 0 -j DROP\n";

    [Fact]
    public void A_drop_of_type_0_routing_headers_before_the_accepts_is_built_in()
    {
        var result = ImportV6(Drops + Nd + Accepts);
        Assert.Empty(result.NotImported);
        Assert.Single(result.Policy.Egress);
        Assert.Single(result.Policy.Input);
        foreach (int line in new[] { FirstRuleLine, FirstRuleLine + 1 })
            Assert.Contains($"#   r6.rules:{line}: built in (the policy drops every IPv6 packet with a type 0 routing header (RFC 5095), before all but loopback)", result.Yaml);
    }

    [Fact]
    public void Other_conditions_on_the_drop_take_less_than_the_policy_drops()
    {
        var result = ImportV6("-A OUTPUT -p tcp -m rt --rt-type 0 --rt-segsleft 0 -j DROP\n" + Nd + Accepts);
        Assert.Empty(result.NotImported);
        Assert.Contains($"#   r6.rules:{FirstRuleLine}: built in (the policy drops every IPv6 packet", result.Yaml);
    }

    [Theory]
    [InlineData("-A OUTPUT -m rt ! --rt-type 0 -j DROP", "negated")]
    [InlineData("-A OUTPUT -m rt --rt-type 2 -j DROP", "-m rt matches IPv6 routing headers")]
    public void Any_other_routing_header_drop_still_shadows_the_accepts(string drop, string why)
    {
        var e = Assert.Throws<PolicyException>(() => ImportV6(drop + "\n" + Nd + Accepts));
        Assert.Contains(e.Diagnostics, d => d.Location.Line == FirstRuleLine && d.Message.Contains("DROP before line") && d.Message.Contains(why));
    }

    [Fact]
    public void An_accept_by_routing_header_is_refused()
    {
        var e = Assert.Throws<PolicyException>(() => ImportV6(Nd + Accepts + "-A OUTPUT -m rt --rt-type 0 -j ACCEPT\n"));
        Assert.Contains(e.Diagnostics, d => d.Location.Line == FirstRuleLine + 7 && d.Message.Contains("-m rt matches IPv6 routing headers"));
    }

    [Theory]
    [InlineData("-A OUTPUT --rt-type 0 -j DROP", 11, "--rt-type needs '-m rt' before it")]
    [InlineData("-A OUTPUT -m rt --rt-type zero -j DROP", 27, "routing header type 'zero' is not a number from 0 to 255")]
    public void A_bad_routing_header_match_is_a_located_error(string rule, int column, string why)
    {
        var e = Assert.Throws<PolicyException>(() => ImportV6(rule + "\n" + Nd + Accepts));
        Assert.Contains(e.Diagnostics, d => d.Location.Line == FirstRuleLine && d.Location.Column == column && d.Message.Contains(why));
    }
}
