using System.Net;
using System.Net.Sockets;
using NetlinkFence.Policy;
using static NetlinkFence.Tests.Policy.PolicyTestSupport;

namespace NetlinkFence.Tests.Policy;

/// <summary>A flow to a host name: refused alone (a flow is one address), one flow per address with a policy that uses the name.</summary>
public sealed class ExpectedFlowTests
{
    private const string Yaml = """
        version: 1
        hosts:
          api.example: [203.0.113.50, "2001:db8::50"]
        egress:
          allow:
            - { name: control, to: [api.example], tcp: [443] }
            - { name: cdn, to: [cdn.example], tcp: [443] }
            - { name: later, to: [later.example], tcp: [443], resolve: lazy }
        """;

    private static ResolvedPolicy Resolved() => ResolvedPolicy.ResolveAsync(PolicyLoader.Load(Yaml, FileName),
        new FakeDns(new() { ["cdn.example"] = [IPAddress.Parse("198.51.100.9"), IPAddress.Parse("198.51.100.8")] })).GetAwaiter().GetResult();

    [Fact]
    public void A_host_name_is_not_a_flow_on_its_own()
    {
        var e = Assert.Throws<InvalidInputException>(() => ExpectedFlow.Parse("tcp:api.example:443"));
        Assert.Contains("'tcp:api.example:443' names the host 'api.example', not an address", e.Message);
        Assert.Contains("with the policy that uses the name", e.Message);
        Assert.DoesNotContain("with the policy", Assert.Throws<InvalidInputException>(() => ExpectedFlow.Parse("tcp:[api.example]:443")).Message);
        Assert.False(ExpectedFlow.TryParse("api.example:443", out _));
    }

    [Fact]
    public void A_name_the_policy_uses_is_a_flow_to_each_of_its_addresses()
    {
        var resolved = Resolved();
        Assert.Equal(
            [new ExpectedFlow(ProtocolType.Tcp, IPAddress.Parse("203.0.113.50"), 443), new ExpectedFlow(ProtocolType.Tcp, IPAddress.Parse("2001:db8::50"), 443)],
            ExpectedFlow.Parse("tcp:API.example.:443", resolved));
        Assert.Equal(
            [new ExpectedFlow(ProtocolType.Udp, IPAddress.Parse("198.51.100.8"), 53), new ExpectedFlow(ProtocolType.Udp, IPAddress.Parse("198.51.100.9"), 53)],
            ExpectedFlow.Parse("udp:cdn.example:53", resolved));
        // An address stays one flow, named or not by the policy.
        Assert.Equal([new ExpectedFlow(ProtocolType.Tcp, IPAddress.Parse("192.0.2.1"), 22)], ExpectedFlow.Parse("192.0.2.1:22", resolved));
    }

    [Theory]
    [InlineData("tcp:other.example:443", "the policy does not use that name")]
    [InlineData("tcp:later.example:443", "has no address now (it did not resolve)")]
    [InlineData("tcp:api.example:0", "is not a flow")]
    [InlineData("tcp:[api.example]:443", "is not a flow")]
    public void Names_the_policy_cannot_turn_into_addresses_are_refused(string text, string why)
    {
        var e = Assert.Throws<InvalidInputException>(() => ExpectedFlow.Parse(text, Resolved()));
        Assert.Contains(why, e.Message);
    }

    // ---- selftest: with names ------------------------------------------------------------------------------

    private const string WithSelfTest = Yaml + "\n" + """
        selftest:
          allow: ["API.example:443", "udp:cdn.example:53", "192.0.2.1:22"]
          deny: ["tcp:cdn.example:8443"]
        """;

    [Fact]
    public async Task A_selftest_flow_may_name_a_host_an_entry_uses_and_stands_for_each_of_its_addresses_at_apply()
    {
        var policy = PolicyLoader.Load(WithSelfTest, FileName);
        Assert.Equal(["API.example:443", "udp:cdn.example:53"], policy.SelfTest.NamedAllow);
        Assert.Equal(["tcp:cdn.example:8443"], policy.SelfTest.NamedDeny);
        Assert.Equal([new ExpectedFlow(ProtocolType.Tcp, IPAddress.Parse("192.0.2.1"), 22)], policy.SelfTest.Allow);

        var resolved = await ResolvedPolicy.ResolveAsync(policy, new FakeDns(new() { ["cdn.example"] = [IPAddress.Parse("198.51.100.9"), IPAddress.Parse("198.51.100.8")] }));
        var test = policy.SelfTest.ForAddresses(resolved);
        Assert.Equal(["tcp:192.0.2.1:22", "tcp:203.0.113.50:443", "tcp:[2001:db8::50]:443", "udp:198.51.100.8:53", "udp:198.51.100.9:53"],
            test.Allow.Select(f => f.ToString()));
        Assert.Equal(["tcp:198.51.100.8:8443", "tcp:198.51.100.9:8443"], test.Deny.Select(f => f.ToString()));
        Assert.Empty(test.NamedAllow);
        Assert.Empty(test.NamedDeny);

        // The builder reads the same.
        var built = new PolicyBuilder()
            .Pin("api.example", "203.0.113.50", "2001:db8::50")
            .AllowEgress("control", ["api.example"], tcp: [443])
            .AllowEgress("cdn", ["cdn.example"], tcp: [443])
            .SelfTest(["API.example:443", "udp:cdn.example:53", "192.0.2.1:22"], ["tcp:cdn.example:8443"])
            .Build();
        Assert.Equal(policy.SelfTest, built.SelfTest);
    }

    [Fact]
    public void A_selftest_flow_naming_a_host_no_entry_uses_is_a_located_error_at_load()
    {
        var d = Only(Yaml + "\nselftest:\n  allow: [\"other.example:443\"]\n", "bad-flow", 10, 11);
        Assert.Contains("no entry of the policy uses 'other.example'", d.Message);
    }

    [Fact]
    public async Task A_selftest_name_without_an_address_at_apply_stops_the_apply_before_anything_is_tried()
    {
        var policy = PolicyLoader.Load(Yaml + "\nselftest:\n  allow: [\"later.example:443\"]\n", FileName);
        var resolved = await ResolvedPolicy.ResolveAsync(policy, new FakeDns(new() { ["cdn.example"] = [IPAddress.Parse("198.51.100.9")] }));
        var e = Assert.Throws<InvalidInputException>(() => policy.SelfTest.ForAddresses(resolved));
        Assert.StartsWith("selftest.allow: 'later.example:443' names the host 'later.example'", e.Message);
        Assert.Contains("has no address now", e.Message);
    }
}
