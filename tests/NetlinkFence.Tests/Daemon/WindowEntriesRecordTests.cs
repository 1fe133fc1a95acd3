using NetlinkFence.Cli;
using NetlinkFence.Cli.Daemon;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// The daemon's record of its policy's window entries holds only for the very table it made: the same namespace (by
/// its cookie: the kernel re-uses a vanished namespace's inode, which names the state files) and the same table handle
/// (handles are counted per namespace, so a later namespace's first table has the same one). A record that does not
/// match is none: a start then takes every open-looking window as open, as without a daemon before it.
/// </summary>
public sealed class WindowEntriesRecordTests
{
    private static readonly EgressPolicy Policy = PolicyLoader.Load("""
        version: 1
        egress:
          allow:
            - name: control
              to: [203.0.113.50]
              tcp: [443]
            - name: mirror
              to: [203.0.113.60]
              tcp: [80]
              window: 30m
        """, "p.yaml");

    [Fact]
    public void A_record_holds_for_its_namespace_and_table_handle_only()
    {
        using var first = TestNamespace.Create();
        using var second = TestNamespace.Create();
        using var firstTarget = TargetNamespace.Open(first.Name);
        using var secondTarget = TargetNamespace.Open(second.Name);
        var firstState = new SafetyState(firstTarget, "netlinkfence");
        var secondState = new SafetyState(secondTarget, "netlinkfence");

        WindowEntriesRecord.Write(firstState, tableHandle: 1, Policy);
        Assert.Equal(["mirror"], WindowEntriesRecord.Read(firstState, tableHandle: 1)!);
        Assert.Null(WindowEntriesRecord.Read(firstState, tableHandle: 2)); // the table was made again since

        // A later namespace given the first one's inode finds its record under its own name: the cookie tells them apart.
        // (Overwrite: an earlier test's namespace may have had the second one's inode and left a record of its own.)
        File.Copy(firstState.WindowEntriesPath, secondState.WindowEntriesPath, overwrite: true);
        Assert.Null(WindowEntriesRecord.Read(secondState, tableHandle: 1));
        File.Delete(firstState.WindowEntriesPath);
        File.Delete(secondState.WindowEntriesPath);
    }
}
