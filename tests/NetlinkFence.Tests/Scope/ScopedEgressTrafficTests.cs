using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Runtime;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Scope;

/// <summary>
/// Real packets through a <c>by:</c> entry: the destination is reachable from the named cgroup (or user) and dropped,
/// and counted in egress_denied, from another one on the same host; an entry without <c>by:</c> stays open to both.
/// </summary>
public sealed class ScopedEgressTrafficTests
{
    private const string Scoped = "198.51.100.10", Open = "198.51.100.20";

    [Fact]
    public async Task CgroupScopedEntryIsReachableFromItsCgroupOnly()
    {
        using var cgroups = new TestCgroup();
        string agent = cgroups.Make("system.slice/agent.service");
        string other = cgroups.Make("system.slice/other.service");
        using var net = new AgentAndWorld(Scoped, Open);
        net.ListenTcp(Scoped, 443);
        net.ListenTcp(Open, 443);
        Assert.True(cgroups.TcpReachable(net.Agent, other, null, Scoped, 443, TestCgroup.ExpectedThroughSeconds), "before the policy the listener answers from any cgroup");

        var policy = PolicyLoader.Load($"""
            version: 1
            egress:
              allow:
                - name: platform
                  to: [{Scoped}]
                  tcp: [443]
                  by: {"{"} cgroup: {agent} {"}"}
                - name: everyone
                  to: [{Open}]
                  tcp: [443]
            """, "scoped.yaml");
        var compiled = PolicyCompiler.Compile(await ResolvedPolicy.ResolveAsync(policy, null, new HostServices(cgroups.Hierarchy)));
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, compiled);
        ulong deniedBefore = DeniedPackets(net.Agent);

        Assert.True(cgroups.TcpReachable(net.Agent, agent, null, Scoped, 443, TestCgroup.ExpectedThroughSeconds), "the named cgroup reaches the scoped destination");
        Assert.False(cgroups.TcpReachable(net.Agent, other, null, Scoped, 443), "another cgroup must not reach the scoped destination");
        Assert.False(cgroups.TcpReachable(net.Agent, null, null, Scoped, 443), "the test's own cgroup must not reach it either");
        Assert.True(cgroups.TcpReachable(net.Agent, other, null, Open, 443, TestCgroup.ExpectedThroughSeconds), "an entry without by: stays open to every cgroup");
        Assert.True(DeniedPackets(net.Agent) > deniedBefore, "the other cgroup's SYNs are counted by egress_denied");

        // The element names its entry and counted the allowed connection; its key ends in the cgroup's id.
        string set = net.Agent.Nft("list set inet netlinkfence allow_cgroup_v4");
        ulong id = cgroups.Hierarchy.IdOf(agent)!.Value;
        Assert.Matches($@"198\.51\.100\.10 \. tcp \. 443 \. {id} counter packets [1-9]\d* bytes \d+ comment ""platform""", set);
    }

    [Fact]
    public async Task UidScopedEntryIsReachableByThatUserOnly()
    {
        const uint Allowed = 61234, Other = 61235;
        using var cgroups = new TestCgroup();
        using var net = new AgentAndWorld(Scoped);
        net.ListenTcp(Scoped, 443);
        Assert.True(cgroups.TcpReachable(net.Agent, null, Other, Scoped, 443, TestCgroup.ExpectedThroughSeconds), "before the policy the listener answers any user");

        var policy = PolicyLoader.Load($"""
            version: 1
            egress:
              allow:
                - name: ntp-like
                  to: [{Scoped}]
                  tcp: [443]
                  by: [{"{"} uid: {Allowed} {"}"}]
            """, "uid.yaml");
        var compiled = PolicyCompiler.Compile(await ResolvedPolicy.ResolveAsync(policy, null, new HostServices(cgroups.Hierarchy)));
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, compiled);
        ulong deniedBefore = DeniedPackets(net.Agent);

        Assert.True(cgroups.TcpReachable(net.Agent, null, Allowed, Scoped, 443, TestCgroup.ExpectedThroughSeconds), $"uid {Allowed} reaches the scoped destination");
        Assert.False(cgroups.TcpReachable(net.Agent, null, Other, Scoped, 443), $"uid {Other} must not");
        Assert.False(cgroups.TcpReachable(net.Agent, null, null, Scoped, 443), "root must not");
        Assert.True(DeniedPackets(net.Agent) > deniedBefore, "the other users' SYNs are counted by egress_denied");
        Assert.Matches($@"198\.51\.100\.10 \. tcp \. 443 \. {Allowed} counter packets [1-9]", net.Agent.Nft("list set inet netlinkfence allow_user_v4"));
    }

    /// <summary>Packets egress_denied's final <c>counter drop</c> counted.</summary>
    internal static ulong DeniedPackets(TestNamespace ns)
    {
        string chain = ns.Nft("list chain inet netlinkfence egress_denied");
        var drop = System.Text.RegularExpressions.Regex.Match(chain, @"counter packets (\d+) bytes \d+ drop");
        Assert.True(drop.Success, chain);
        return ulong.Parse(drop.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
