using System.Diagnostics;
using NetlinkFence.Tests.Daemon;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Scope;

/// <summary>
/// A scoped service "restarts" (its cgroup is removed and made again, with a new id, as systemd does): the daemon sees
/// it in the cgroup2 hierarchy and moves the entry's elements to the new id; meanwhile and after, another cgroup stays
/// denied. systemd is not PID 1 on the test machine, so the restart is the directory's, made by the test.
/// </summary>
public sealed class ScopeRebindDaemonTests(ITestOutputHelper output)
{
    private const string Scoped = "198.51.100.30";

    [Fact]
    public void DaemonRebindsARecreatedCgroupAndOthersStayDenied()
    {
        using var scene = new Scene();
        var (cgroups, net, agent, other) = (scene.Cgroups, scene.Net, scene.Agent, scene.Other);
        using var daemon = scene.StartDaemon();
        ulong before = cgroups.Hierarchy.IdOf(agent)!.Value;
        Assert.True(cgroups.TcpReachable(net.Agent, agent, null, Scoped, 443, TestCgroup.ExpectedThroughSeconds), "the named cgroup reaches its destination");
        Assert.False(cgroups.TcpReachable(net.Agent, other, null, Scoped, 443), "another cgroup does not");

        // The "restart": the old directory goes, a new one (new id) comes.
        var restart = Stopwatch.StartNew();
        cgroups.Remove(agent);
        cgroups.Make(agent);
        ulong after = cgroups.Hierarchy.IdOf(agent)!.Value;
        Assert.NotEqual(before, after);
        string Set() => CgroupSet(net);
        WaitForElementOf(after, net, daemon);
        double rebindMs = restart.Elapsed.TotalMilliseconds;
        output.WriteLine($"re-bound {rebindMs:0} ms after the cgroup was re-created (the issue asks for 1 s); daemon: "
            + daemon.Log.Split('\n').LastOrDefault(l => l.Contains("re-bound", StringComparison.Ordinal)));
        Assert.DoesNotContain($". {before} ", Set(), StringComparison.Ordinal);
        Assert.True(cgroups.TcpReachable(net.Agent, agent, null, Scoped, 443, TestCgroup.ExpectedThroughSeconds), "the re-created cgroup reaches the destination");
        Assert.False(cgroups.TcpReachable(net.Agent, other, null, Scoped, 443), "another cgroup is still denied");
        Assert.Contains("re-bound", daemon.Log, StringComparison.Ordinal);

        // Gone for good: its elements go (nothing allowed through it), and nobody else gains anything.
        cgroups.Remove(agent);
        Assert.True(DaemonProcess.WaitUntil(() => !Set().Contains($". {after} ", StringComparison.Ordinal), 30), $"elements of a removed cgroup stay:\n{Set()}");
        Assert.False(cgroups.TcpReachable(net.Agent, other, null, Scoped, 443), "another cgroup is still denied while the service is gone");
        daemon.Signal("TERM");
        daemon.WaitExit();
    }

    /// <summary>
    /// Watch mode (no table ownership): a repair after a re-bind keeps the service's current cgroup id. It must not
    /// count the re-bound element as drift, nor put back the id the daemon started with (that cgroup is gone, so the
    /// service would be denied until the next re-bind).
    /// </summary>
    [Fact]
    public void WithoutOwnershipARepairAfterARebindKeepsTheCurrentCgroupId()
    {
        using var scene = new Scene();
        var (cgroups, net, agent, other) = (scene.Cgroups, scene.Net, scene.Agent, scene.Other);
        using var daemon = scene.StartDaemon("--no-owner");
        ulong before = cgroups.Hierarchy.IdOf(agent)!.Value;
        cgroups.Remove(agent);
        cgroups.Make(agent);
        ulong after = cgroups.Hierarchy.IdOf(agent)!.Value;
        WaitForElementOf(after, net, daemon);
        Assert.True(daemon.WaitForLog("re-bound"), daemon.Log);
        Assert.DoesNotContain("foreign change", daemon.Log, StringComparison.Ordinal); // the daemon's own re-bind is not one

        // Another writer adds a rule: the repair removes it, and only it.
        net.Agent.Nft("add rule inet netlinkfence output ip daddr 192.0.2.77 accept");
        Assert.True(daemon.WaitForLog("repaired table inet netlinkfence"), daemon.Log);
        Assert.DoesNotContain("192.0.2.77", net.Agent.Nft("list table inet netlinkfence"), StringComparison.Ordinal);
        var drift = daemon.Log.Split('\n').Where(l => l.Contains("differs from the policy", StringComparison.Ordinal)).ToList();
        Assert.True(drift.Count == 1 && drift[0].Contains("192.0.2.77", StringComparison.Ordinal), daemon.Log);
        string set = CgroupSet(net);
        Assert.Contains($". {after} ", set, StringComparison.Ordinal);
        Assert.DoesNotContain($". {before} ", set, StringComparison.Ordinal);
        Assert.True(cgroups.TcpReachable(net.Agent, agent, null, Scoped, 443, TestCgroup.ExpectedThroughSeconds), "the re-created cgroup still reaches the destination after the repair");
        Assert.False(cgroups.TcpReachable(net.Agent, other, null, Scoped, 443), "another cgroup is still denied");
        daemon.Signal("TERM");
        daemon.WaitExit();
    }

    /// <summary>
    /// inotify refused (the user's instance limit reached, as on a host full of watchers): the daemon says so and
    /// re-binds at its 10 s look instead, never silently not at all. The limit is 0 only in a user namespace of the
    /// daemon's own (max_inotify_instances is per user namespace), so nothing else on the host is short of
    /// instances; the daemon guards a network namespace of that user namespace, read here through /proc/PID/ns/net.
    /// </summary>
    [Fact]
    public void WithoutInotifyTheDaemonSaysSoAndStillRebindsARecreatedCgroup()
    {
        using var cgroups = new TestCgroup();
        string agent = cgroups.Make("system.slice/agent.service");
        string policy = TestScratch.PathFor("nlf-scope", ".yaml");
        File.WriteAllText(policy, PolicyFor(agent));
        using var daemon = DaemonProcess.StartWrapped(
            "exec unshare --user --map-root-user --net sh -c 'echo 0 > /proc/sys/user/max_inotify_instances && exec \"$@\"' limited \"$@\"", policy);
        daemon.WaitReady();
        Assert.True(daemon.WaitForLog("cannot be watched ("), daemon.Log);
        Assert.Contains("looking every 10 s instead: a restarted service is re-bound within that time, not at once", daemon.Log, StringComparison.Ordinal);

        // nft prints a cgroup id it finds under /sys/fs/cgroup as its path; hidden (as ip netns exec hides it), the id.
        string Set() => TestNamespace.Run("nsenter", $"--net=/proc/{daemon.Pid}/ns/net unshare --mount sh -c "
            + "\"mount -t tmpfs none /sys/fs/cgroup && exec nft list set inet netlinkfence allow_cgroup_v4\"");
        ulong before = cgroups.Hierarchy.IdOf(agent)!.Value;
        Assert.True(Set().Contains($". {before} ", StringComparison.Ordinal), $"{Set()}\n{daemon.Log}");
        cgroups.Remove(agent);
        cgroups.Make(agent);
        ulong after = cgroups.Hierarchy.IdOf(agent)!.Value;
        Assert.True(DaemonProcess.WaitUntil(() => Set().Contains($". {after} ", StringComparison.Ordinal), 45),
            $"the element was not moved to cgroup {after} within 45 s (the look is every 10 s):\n{Set()}\n{daemon.Log}");
        Assert.DoesNotContain($". {before} ", Set(), StringComparison.Ordinal);
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitExit());
    }

    private static string PolicyFor(string cgroup) => $$"""
        version: 1
        egress:
          allow:
            - name: platform
              to: [{{Scoped}}]
              tcp: [443]
              by: { cgroup: {{cgroup}} }
        """;

    /// <summary>Two services' cgroups, the agent's namespace and its world with a listener, and a policy for "agent".</summary>
    private sealed class Scene : IDisposable
    {
        public TestCgroup Cgroups { get; }
        public AgentAndWorld Net { get; }
        public string Agent { get; }
        public string Other { get; }

        public Scene()
        {
            Cgroups = new TestCgroup();
            try
            {
                Agent = Cgroups.Make("system.slice/agent.service");
                Other = Cgroups.Make("system.slice/other.service");
                Net = new AgentAndWorld(Scoped);
                Net.ListenTcp(Scoped, 443);
            }
            catch
            {
                Net?.Dispose(); // nothing left behind when the set-up fails half way
                Cgroups.Dispose();
                throw;
            }
        }

        /// <summary>A daemon for one entry scoped to <see cref="Agent"/>'s cgroup, ready.</summary>
        public DaemonProcess StartDaemon(string extraArguments = "")
        {
            string policy = TestScratch.PathFor("nlf-scope", ".yaml");
            File.WriteAllText(policy, PolicyFor(Agent));
            var daemon = DaemonProcess.Start(policy, Net.Agent, extraArguments);
            try
            {
                daemon.WaitReady();
                return daemon;
            }
            catch
            {
                daemon.Dispose(); // not left running when it never got ready
                throw;
            }
        }

        public void Dispose()
        {
            Net.Dispose();
            Cgroups.Dispose();
        }
    }

    private static string CgroupSet(AgentAndWorld net) => net.Agent.Nft("list set inet netlinkfence allow_cgroup_v4");

    private static void WaitForElementOf(ulong cgroupId, AgentAndWorld net, DaemonProcess daemon) =>
        Assert.True(DaemonProcess.WaitUntil(() => CgroupSet(net).Contains($". {cgroupId} ", StringComparison.Ordinal), 30),
            $"the element was not moved to cgroup {cgroupId} within 30 s:\n{CgroupSet(net)}\n{daemon.Log}");
}
