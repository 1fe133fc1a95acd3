using System.Net;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Runtime;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Scope;

/// <summary>
/// Run-time changes of a <c>by:</c> entry through <see cref="LivePolicy"/>, against the kernel: a scoped window opens
/// only for its cgroup and closes again; a DNS refresh puts a scoped entry's new addresses into the scoped set with the
/// scope (reachable from the cgroup, denied from another).
/// </summary>
public sealed class ScopedLiveChangesTests
{
    private const string Mirror = "198.51.100.40", Moved = "198.51.100.41", Control = "198.51.100.42";

    private static string Yaml(string agent) => $$"""
        version: 1
        hosts:
          control.example: [{{Control}}]
        egress:
          allow:
            - name: updates
              to: [{{Mirror}}]
              tcp: [80]
              window: 1m
              by: { cgroup: {{agent}} }
            - name: control
              to: [control.example, mirror.example]
              tcp: [443]
              by: { cgroup: {{agent}} }
        """;

    private static async Task<(LivePolicy Live, NftablesConnection Nft)> ApplyAsync(AgentAndWorld net, TestCgroup cgroups, string agent)
    {
        var resolver = new FixedResolver(new() { ["mirror.example"] = [IPAddress.Parse(Mirror)] });
        var resolved = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(Yaml(agent), "scoped-live.yaml"), resolver, new HostServices(cgroups.Hierarchy));
        var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, PolicyCompiler.Compile(resolved));
        return (await LivePolicy.AttachAsync(nft, resolved), nft);
    }

    [Fact]
    public async Task ScopedWindowOpensForItsCgroupOnlyAndCloses()
    {
        using var cgroups = new TestCgroup();
        string agent = cgroups.Make("system.slice/agent.service");
        string other = cgroups.Make("system.slice/other.service");
        using var net = new AgentAndWorld(Mirror, Control);
        net.ListenTcp(Mirror, 80);
        net.ListenTcp(Control, 443);
        Assert.True(cgroups.TcpReachable(net.Agent, agent, null, Mirror, 80, TestCgroup.ExpectedThroughSeconds), "before the policy the listener answers");
        var (live, nft) = await ApplyAsync(net, cgroups, agent);
        await using var _ = nft;
        Assert.True(cgroups.TcpReachable(net.Agent, agent, null, Control, 443, TestCgroup.ExpectedThroughSeconds), "the scoped permanent entry works (the setup is right)");
        Assert.False(cgroups.TcpReachable(net.Agent, agent, null, Mirror, 80), "a scoped window entry is closed after apply");
        Assert.False(Assert.Single(await live.WindowsAsync()).IsOpen);

        var opened = await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(50));
        Assert.True(opened.IsOpen);
        ulong id = cgroups.Hierarchy.IdOf(agent)!.Value;
        string set = net.Agent.Nft("list set inet netlinkfence allow_cgroup_v4");
        Assert.Matches($@"198\.51\.100\.40 \. tcp \. 80 \. {id} [^\n]*timeout", set);
        Assert.DoesNotContain("198.51.100.40", net.Agent.Nft("list set inet netlinkfence allow_v4"), StringComparison.Ordinal);
        Assert.True(Assert.Single(await live.WindowsAsync()).IsOpen, "the window reads back open from the kernel");
        Assert.True(cgroups.TcpReachable(net.Agent, agent, null, Mirror, 80, TestCgroup.ExpectedThroughSeconds), "the open window lets its cgroup through");
        Assert.False(cgroups.TcpReachable(net.Agent, other, null, Mirror, 80), "the open window must not let another cgroup through");
        Assert.False(cgroups.TcpReachable(net.Agent, null, null, Mirror, 80), "nor the test's own cgroup");

        await live.CloseWindowAsync("updates");
        Assert.DoesNotContain("198.51.100.40 . tcp . 80", net.Agent.Nft("list set inet netlinkfence allow_cgroup_v4"), StringComparison.Ordinal);
        Assert.False(cgroups.TcpReachable(net.Agent, agent, null, Mirror, 80), "a closed window is closed for its cgroup too");
        Assert.False(Assert.Single(await live.WindowsAsync()).IsOpen);
        Assert.True(cgroups.TcpReachable(net.Agent, agent, null, Control, 443, TestCgroup.ExpectedThroughSeconds), "closing the window leaves the other entry alone");
    }

    [Fact]
    public async Task RefreshedNameOfAScopedEntryGoesIntoTheScopedSetWithItsScope()
    {
        using var cgroups = new TestCgroup();
        string agent = cgroups.Make("system.slice/agent.service");
        string other = cgroups.Make("system.slice/other.service");
        using var net = new AgentAndWorld(Mirror, Moved, Control);
        net.ListenTcp(Moved, 443);
        var (live, nft) = await ApplyAsync(net, cgroups, agent);
        await using var _ = nft;
        Assert.False(cgroups.TcpReachable(net.Agent, agent, null, Moved, 443), "the new address is not allowed before the refresh");

        Assert.True(live.NamesHost("mirror.example"));
        await live.RefreshNamesAsync([("mirror.example", [(IPAddress.Parse(Moved), DateTimeOffset.UtcNow.AddMinutes(5))])]);
        ulong id = cgroups.Hierarchy.IdOf(agent)!.Value;
        string set = net.Agent.Nft("list set inet netlinkfence allow_cgroup_v4");
        Assert.Matches($@"198\.51\.100\.41 \. tcp \. 443 \. {id} [^\n]*timeout (4m5\d|5m)[^\n]*comment ""control""", set);
        Assert.DoesNotContain("198.51.100.41", net.Agent.Nft("list set inet netlinkfence allow_v4"), StringComparison.Ordinal);
        Assert.True(cgroups.TcpReachable(net.Agent, agent, null, Moved, 443, TestCgroup.ExpectedThroughSeconds), "the scoped cgroup reaches the refreshed address");
        Assert.False(cgroups.TcpReachable(net.Agent, other, null, Moved, 443), "another cgroup must not reach the refreshed address");

        // The single-name call does the same for another address and keeps the scope.
        await live.RefreshNameAsync("mirror.example", [(IPAddress.Parse(Mirror), DateTimeOffset.UtcNow.AddMinutes(5))]);
        Assert.Matches($@"198\.51\.100\.40 \. tcp \. 443 \. {id} [^\n]*timeout", net.Agent.Nft("list set inet netlinkfence allow_cgroup_v4"));
    }
}
