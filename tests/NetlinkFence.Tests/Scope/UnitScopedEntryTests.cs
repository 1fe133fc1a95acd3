using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Runtime;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Scope;

/// <summary>
/// <c>by: { unit: NAME.service }</c> on a systemd-like layout the test builds under the cgroup2 mount (systemd is not
/// PID 1 here): the unit name resolves to its cgroup below the unit root, the element carries that cgroup's id, and
/// only processes in it reach the destination.
/// </summary>
public sealed class UnitScopedEntryTests
{
    private const string Scoped = "198.51.100.50";

    [Fact]
    public async Task UnitScopedEntryBindsToTheUnitsCgroupAndIsReachableFromItOnly()
    {
        using var cgroups = new TestCgroup();
        string unit = $"foo-{Guid.NewGuid().ToString("n")[..8]}.service";
        string unitCgroup = cgroups.Make("system.slice/" + unit);
        string other = cgroups.Make("system.slice/bar.service");
        using var net = new AgentAndWorld(Scoped);
        net.ListenTcp(Scoped, 443);
        Assert.True(cgroups.TcpReachable(net.Agent, other, null, Scoped, 443, TestCgroup.ExpectedThroughSeconds), "before the policy the listener answers from any cgroup");

        var host = new HostServices(cgroups.Hierarchy, unitRoot: cgroups.Root);
        Assert.Equal(unitCgroup, host.UnitCgroup(unit));
        Assert.Contains(unit, host.Services());
        var policy = PolicyLoader.Load($$"""
            version: 1
            egress:
              allow:
                - name: foo
                  to: [{{Scoped}}]
                  tcp: [443]
                  by: { unit: {{unit}} }
            """, "unit.yaml");
        var resolved = await ResolvedPolicy.ResolveAsync(policy, null, host);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, PolicyCompiler.Compile(resolved));

        ulong id = cgroups[("system.slice/" + unit)].Id; // stat(1), not the code under test
        Assert.Matches($@"198\.51\.100\.50 \. tcp \. 443 \. {id} [^\n]*comment ""foo""", net.Agent.Nft("list set inet netlinkfence allow_cgroup_v4"));
        Assert.True(cgroups.TcpReachable(net.Agent, unitCgroup, null, Scoped, 443, TestCgroup.ExpectedThroughSeconds), "the unit's cgroup reaches its destination");
        Assert.False(cgroups.TcpReachable(net.Agent, other, null, Scoped, 443), "another unit must not");
        Assert.False(cgroups.TcpReachable(net.Agent, cgroups.Root, null, Scoped, 443), "the unit root itself must not");
    }
}
