using NetlinkFence.Cli;
using NetlinkFence.Cli.Daemon;
using NetlinkFence.Tests.Faults;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// The daemon's control socket is keyed on the namespace's identity, like the rollback state: a verb that names the
/// daemon's namespace another way (here /run/netns/NAME for a daemon started with the name) still reaches it.
/// </summary>
public sealed class DaemonSocketTests : IDisposable
{
    private const string PolicyText = """
        version: 1
        hosts:
          deb.mirror.example: [203.0.113.80]
        egress:
          allow:
            - name: updates
              to: [deb.mirror.example]
              tcp: [80]
              window: 1m
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("nlf-daemon-socket-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void AVerbThatSpellsTheNamespaceAsAPathReachesTheDaemonStartedWithItsName()
    {
        using var ns = TestNamespace.Create();
        string policy = FaultPolicies.WriteFile(_directory, "policy.yaml", PolicyText);
        Assert.Equal(DaemonPaths.ControlSocket(ns.Name, "netlinkfence"), DaemonPaths.ControlSocket(ns.Path, "netlinkfence"));
        using var daemon = DaemonProcess.Start(policy, ns);
        daemon.WaitReady();

        var open = CliRunner.Run($"open updates --for 30s --policy {policy} --netns {ns.Path}");
        Assert.True(open.ExitCode == 0, open.Stderr + open.Stdout);
        // Only the daemon could open it (it owns the table): the request went through its socket.
        Assert.True(daemon.WaitForLog("control: open updates from uid 0"), daemon.Log);
        var status = CliRunner.Run($"status --policy {policy} --netns {ns.Path}");
        Assert.True(status.ExitCode == 0, status.Stderr);
        Assert.True(daemon.WaitForLog("control: status from uid 0"), daemon.Log);
        Assert.Contains("updates: open", status.Stdout);
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitExit());
    }
}
