using NetlinkFence.Cli;
using NetlinkFence.Cli.Daemon;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// The daemon's record of its policy's window entries holds only for the very table it made: the same table handle, and
/// the same namespace: the kernel re-uses a vanished namespace's inode, which names the state files, and a later
/// namespace counts table handles from 1 again, so claiming the state (SafetyState.Claim, by the namespace cookie)
/// discards an earlier namespace's record. A record that does not match is none: a start then takes every
/// open-looking window as open, as without a daemon before it.
/// </summary>
public sealed class WindowEntriesRecordTests
{
    private static readonly EgressPolicy Policy = PolicyLoader.Load(DaemonMetricsTests.Policy, "p.yaml"); // control, and window entry mirror

    [Fact]
    public void A_record_holds_for_its_namespace_and_table_handle_only()
    {
        using var first = TestNamespace.Create();
        using var second = TestNamespace.Create();
        using var firstTarget = TargetNamespace.Open(first.Name);
        using var secondTarget = TargetNamespace.Open(second.Name);
        var firstState = new SafetyState(firstTarget, "netlinkfence");
        var secondState = new SafetyState(secondTarget, "netlinkfence");

        firstState.Claim(); // as the daemon does first, under the lock
        WindowEntriesRecord.Write(firstState, tableHandle: 1, Policy);
        Assert.Equal(["mirror"], WindowEntriesRecord.Read(firstState, tableHandle: 1)!);
        Assert.Null(WindowEntriesRecord.Read(firstState, tableHandle: 2)); // the table was made again since

        // A later namespace given the first one's inode finds the first one's state under its own name (copied here, with
        // the namespace cookie that state was claimed for). Claiming it, as the daemon does before reading, discards the record.
        // (Overwrite: an earlier test's namespace may have had the second one's inode and left state of its own.)
        File.Copy(firstState.WindowEntriesPath, secondState.WindowEntriesPath, overwrite: true);
        File.Copy(firstState.NamespacePath, secondState.NamespacePath, overwrite: true);
        Assert.Equal(["mirror"], WindowEntriesRecord.Read(secondState, tableHandle: 1)!); // what the daemon would read unclaimed
        secondState.Claim();
        Assert.Null(WindowEntriesRecord.Read(secondState, tableHandle: 1));
        firstState.Claim(); // its own cookie: its record stays
        Assert.Equal(["mirror"], WindowEntriesRecord.Read(firstState, tableHandle: 1)!);
        File.Delete(firstState.WindowEntriesPath);
    }
}
