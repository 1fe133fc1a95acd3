using System.Net;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Policy;

/// <summary>
/// DNS answers a name may not open (DNS rebinding onto the metadata service or the host itself): which addresses, and
/// that pins and literal destinations are not screened (lint warns about those instead).
/// </summary>
public sealed class AnswerScreenTests
{
    [Theory]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("127.0.0.53", "loopback")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("224.0.0.251", "multicast")]
    [InlineData("255.255.255.255", "broadcast")]
    [InlineData("::1", "loopback")]
    [InlineData("::", "unspecified")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("ff02::fb", "multicast")]
    [InlineData("fd00:ec2::254", "AWS's instance metadata service")]
    [InlineData("fd20:ce::254", "Google Cloud's metadata server")]
    [InlineData("fd00:c1::a9fe:a9fe", "Oracle Cloud's instance metadata service")]
    [InlineData("100.100.100.200", "Alibaba Cloud's instance metadata service")]
    [InlineData("168.63.129.16", "Azure's WireServer")]
    [InlineData("::ffff:100.100.100.200", "Alibaba")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    public void AddressesNoRemoteServiceLivesAtAreRefused(string address, string why) =>
        Assert.Contains(why, AnswerScreen.WhyRefused(IPAddress.Parse(address)));

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("192.168.1.20")]
    [InlineData("203.0.113.50")]
    [InlineData("2001:db8::1")]
    [InlineData("fd00::1")]
    [InlineData("169.255.0.1")]
    [InlineData("100.100.100.201")]
    [InlineData("168.63.129.17")]
    public void PrivateAndPublicAddressesAreTaken(string address) => Assert.Null(AnswerScreen.WhyRefused(IPAddress.Parse(address)));

    [Fact]
    public async Task DnsAnswersAreScreenedPinsAreNot()
    {
        var policy = new PolicyBuilder()
            .Pin("local.test", "127.0.0.1")
            .AllowEgress("web", to: ["local.test", "dns.test"], tcp: [443])
            .AllowEgress("later", to: ["meta.test"], tcp: [80])
            .ResolveLazily("later")
            .Build();
        var resolver = new FixedResolver(new()
        {
            ["dns.test"] = [IPAddress.Parse("127.0.0.1"), IPAddress.Parse("203.0.113.7")],
            ["meta.test"] = [IPAddress.Parse("169.254.169.254")],
        });
        var resolved = await ResolvedPolicy.ResolveAsync(policy, resolver);
        Assert.Equal([IPAddress.Parse("127.0.0.1")], resolved.Names["local.test"].Addresses); // a pin is the operator's word
        Assert.Equal([IPAddress.Parse("203.0.113.7")], resolved.Names["dns.test"].Addresses);
        Assert.Equal([IPAddress.Parse("127.0.0.1")], resolved.Names["dns.test"].Refused);
        Assert.True(resolved.Names["meta.test"].Unresolved); // lazy: allows nothing until it resolves to something usable
        Assert.Equal([IPAddress.Parse("169.254.169.254")], resolved.Names["meta.test"].Refused);

        var e = await Assert.ThrowsAsync<PolicyException>(() => ResolvedPolicy.ResolveAsync(new PolicyBuilder()
            .AllowEgress("meta", to: ["meta.test"], tcp: [80]).Build(), resolver));
        Assert.Equal("refused-answer", Assert.Single(e.Diagnostics).Code);
    }
}
