using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>Without CAP_NET_ADMIN the library says so plainly, as a TransactionRejectedException.</summary>
public sealed class PermissionTests
{
    private const string DropEverything = "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all";

    [Fact]
    public void WithoutCapNetAdminTheErrorSaysSo()
    {
        using var ns = TestNamespace.Create();
        // The probe runs inside the test namespace as nobody with no capabilities, and commits in its own namespace.
        var (exit, output) = Probe.Run($"ip netns exec {ns.Name} {DropEverything}", "commit denied");
        Assert.True(exit == 4, $"exit {exit}: {output}");
        Assert.Contains("REJECTED permission=True", output);
        Assert.Contains("CAP_NET_ADMIN", output);
        Assert.Contains("permission denied", output);
        Assert.Equal("", ns.Nft("list ruleset").Trim());

        // The same probe as root commits: the refusal above was about privileges, nothing else.
        var (rootExit, rootOutput) = Probe.Run($"ip netns exec {ns.Name}", "commit allowed");
        Assert.True(rootExit == 0, $"exit {rootExit}: {rootOutput}");
        Assert.Contains("table inet allowed", ns.Nft("list tables"));
    }

    [Fact]
    public void WithoutCapNetAdminANamedNamespaceCannotBeEntered()
    {
        using var ns = TestNamespace.Create();
        // Asked to work in another namespace, an unprivileged process fails at setns, and the message names the path.
        var (exit, output) = Probe.Run(DropEverything, $"commit denied {ns.Name}");
        Assert.True(exit == 5, $"exit {exit}: {output}");
        Assert.Contains("ErrnoException", output);
        Assert.Contains(ns.Path, output);
        Assert.Contains("EPERM", output);
        Assert.Equal("", ns.Nft("list ruleset").Trim());
    }

    [Fact]
    public void LostErrorRepliesAreNeverMisreadAsSuccess()
    {
        // A user namespace owning a fresh network namespace: CAP_NET_ADMIN over it, but not the init namespace's
        // CAP_NET_ADMIN that SO_RCVBUFFORCE needs, so the receive buffer stays at net.core.rmem_max. 20,000 refused
        // rules produce more error replies than that holds: the kernel drops some (ENOBUFS). The outcome must
        // still be "refused", with the loss stated.
        var (exit, output) = Probe.Run("unshare --user --map-root-user --net", "many-errors lost 20000");
        Assert.True(exit == 3, $"exit {exit}: {output}");
        Assert.Contains("REJECTED permission=False", output);
        Assert.Contains("nothing was applied", output);
        int rmemMax = int.Parse(File.ReadAllText("/proc/sys/net/core/rmem_max").Trim());
        if (rmemMax <= 8 << 20)
            Assert.Contains("were lost", output); // with a larger rmem_max every reply may fit; then nothing is lost
    }
}
