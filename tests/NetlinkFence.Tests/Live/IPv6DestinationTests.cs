using System.Net;
using System.Text.RegularExpressions;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Live;

/// <summary>
/// An embedding agent adds an IPv6 destination: reached when the policy has IPv6 peers (its table carries IPv6
/// neighbour discovery); refused, with the table unchanged, when it has none, where it would be allowed and unreachable.
/// </summary>
public sealed class IPv6DestinationTests
{
    private const string Control = "2001:db8::50", Added = "2001:db8::51";

    private static async Task<(LivePolicy Live, NftablesConnection Nft)> ApplyAsync(AgentAndWorld net, string destination)
    {
        var policy = new PolicyBuilder().AllowEgress("control", to: [destination], tcp: [443]).Build();
        var resolved = await ResolvedPolicy.ResolveAsync(policy, new FixedResolver());
        var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, PolicyCompiler.Compile(resolved));
        return (await LivePolicy.AttachAsync(nft, resolved), nft);
    }

    private static string WithoutCounters(string listing) => Regex.Replace(listing, @"counter packets \d+ bytes \d+", "counter");

    [Fact]
    public async Task An_added_IPv6_destination_is_reached_under_a_policy_with_IPv6_peers()
    {
        using var net = new AgentAndWorld(Control, Added);
        net.ListenTcp(Added, 443);
        var (live, nft) = await ApplyAsync(net, Control);
        await using var _ = nft;
        Assert.False(net.TcpReachable(Added, 443, 700), "nothing allows the address yet");
        await live.AddDestinationAsync("control", IPNetwork.Parse(Added + "/128"), TimeSpan.FromMinutes(2));
        Assert.True(net.TcpReachable(Added, 443, AgentAndWorld.ExpectedThroughMs), "the added IPv6 destination is unreachable");
    }

    [Fact]
    public async Task Adding_an_IPv6_destination_to_a_policy_without_IPv6_peers_is_refused_and_changes_nothing()
    {
        using var net = new AgentAndWorld("198.51.100.10", Added);
        var (live, nft) = await ApplyAsync(net, "198.51.100.10");
        await using var _ = nft;
        // Without counters: the agent's link goes on soliciting a router, which this policy denies and counts meanwhile.
        string before = WithoutCounters(net.Agent.Nft("list ruleset"));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => live.AddDestinationAsync("control", IPNetwork.Parse(Added + "/128")));
        Assert.Equal($"the running policy names no IPv6 peer, so table inet netlinkfence has no IPv6 neighbour discovery and {Added}/128 "
            + "could not be reached; name an IPv6 peer in the policy and reload it first", refused.Message);
        Assert.Equal(before, WithoutCounters(net.Agent.Nft("list ruleset")));
        // An IPv4 destination is taken as ever.
        await live.AddDestinationAsync("control", IPNetwork.Parse("198.51.100.11/32"));
        Assert.Contains("198.51.100.11", net.Agent.Nft("list set inet netlinkfence allow_v4"));
    }
}
