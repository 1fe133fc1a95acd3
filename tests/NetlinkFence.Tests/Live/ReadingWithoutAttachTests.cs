using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Live;

/// <summary>
/// <see cref="LivePolicy.ReadCounters(ResolvedPolicy, TableContents)"/> and <see cref="LivePolicy.Windows(ResolvedPolicy, TableContents)"/>,
/// which the metrics (<c>stats --prometheus</c>, the daemon's file) read without attaching, say what an attached policy
/// says of the same listing: on a kernel table with traffic counted, a window open and windows sharing destinations.
/// </summary>
public sealed class ReadingWithoutAttachTests
{
    [Fact]
    public async Task Counters_and_windows_read_without_attaching_are_what_an_attached_policy_reads()
    {
        using var net = LivePolicyTests.World();
        var (live, nft) = await LivePolicyTests.ApplyAsync(net, LivePolicyTests.SharedYaml);
        await using var _ = nft;
        await live.OpenWindowAsync("all-mirrors", TimeSpan.FromSeconds(50));
        Assert.True(net.TcpReachable(LivePolicyTests.Mirror, 80, AgentAndWorld.ExpectedThroughMs));
        Assert.True(net.TcpReachable(LivePolicyTests.Control, 443, AgentAndWorld.ExpectedThroughMs));

        var contents = (await nft.ListTableAsync(NftFamily.Inet, live.Table))!;
        var attached = live.ReadCounters(contents);
        var alone = LivePolicy.ReadCounters(live.Policy, contents);
        Assert.Equal(attached.Select(Counted), alone.Select(Counted));
        Assert.Contains(alone, c => c.Entry.Name == "all-mirrors" && c.Packets > 0 && c.Elements > 0); // the read sees traffic, not zeros
        Assert.Contains(alone, c => c.Entry.Name == "control" && c.Packets > 0);
        Assert.Contains(alone, c => c.Entry.Name == "updates" && c.Elements == 0); // closed: allows nothing now

        var windowsAttached = live.Windows(contents);
        var windowsAlone = LivePolicy.Windows(live.Policy, contents);
        Assert.Equal(windowsAttached.Select(Window), windowsAlone.Select(Window));
        var open = Assert.Single(windowsAlone, w => w.IsOpen);
        Assert.Equal("all-mirrors", open.Entry.Name);
        Assert.InRange(open.Remaining!.Value - windowsAttached.Single(w => w.IsOpen).Remaining!.Value, TimeSpan.FromSeconds(-5), TimeSpan.FromSeconds(5));
        Assert.Contains(windowsAlone, w => w.Entry.Name == "updates" && w.AlsoAllowedBy.SequenceEqual(["all-mirrors"]));

        // A listing of another table is the caller's mistake, as for an attached policy.
        var other = contents with { Table = new Table(NftFamily.Inet, "other") };
        Assert.Throws<ArgumentException>(() => LivePolicy.ReadCounters(live.Policy, other));
        Assert.Throws<ArgumentException>(() => LivePolicy.Windows(live.Policy, other));
    }

    private static string Counted(EntryCounters c) => $"{c.Entry.Name} {(c.Input ? "input" : "egress")} {c.Packets} {c.Bytes} {c.Elements}";

    private static string Window(LiveWindow w) => $"{w.Entry.Name} {w.IsOpen} [{string.Join(",", w.AlsoAllowedBy)}]";
}
