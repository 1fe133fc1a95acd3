using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// <c>netlinkfence reload</c>, the unit's ExecReload: SIGHUP told the sender nothing, so <c>systemctl reload</c> said
/// success while a typo kept the old policy running. The verb waits for the daemon's answer and exits with it.
/// </summary>
public sealed class ReloadVerbTests
{
    [Fact]
    public void ReloadReportsWhatTheDaemonDidAndFailsWithTheLocatedErrorWhenThePolicyDoesNotCompile()
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(DaemonTests.Policy());
        using var daemon = DaemonProcess.Start(policy, ns);
        daemon.WaitReady();

        File.WriteAllText(policy, DaemonTests.Policy("203.0.113.50, 198.51.100.7"));
        var added = CliRunner.Run($"reload --policy {policy} --netns {ns.Name}");
        Assert.True(added.ExitCode == 0, $"exit {added.ExitCode}: {added.Stderr}");
        Assert.Equal($"reloaded {policy} into table inet {DaemonTests.Table}: element changes only: 0 removed, 1 added", added.Stdout.Trim());
        Assert.Contains("198.51.100.7", ns.Nft($"list set inet {DaemonTests.Table} allow_v4"));
        Assert.True(daemon.WaitForLog("reloaded (control socket, uid 0"), daemon.Log);

        // A new window entry changes nothing in the table (it starts closed): said so, not as if the edit were not taken.
        File.WriteAllText(policy, DaemonTests.Policy("203.0.113.50, 198.51.100.7") + "\n" + """
                - name: updates
                  to: [203.0.113.80]
                  tcp: [80]
                  window: 10m
            """);
        var window = CliRunner.Run($"reload --policy {policy} --netns {ns.Name}");
        Assert.True(window.ExitCode == 0, $"exit {window.ExitCode}: {window.Stderr}");
        Assert.Equal($"reloaded {policy} into table inet {DaemonTests.Table}: no commit: the table already holds what the policy allows "
            + "(new window entry updates: closed until opened)", window.Stdout.Trim());

        // Another file: the daemon would re-read its own, so the verb refuses rather than seem to load this one.
        string other = DaemonTests.WritePolicy(DaemonTests.Policy("192.0.2.1"));
        var wrongFile = CliRunner.Run($"reload --policy {other} --netns {ns.Name}");
        Assert.True(wrongFile.ExitCode == 2, $"exit {wrongFile.ExitCode}: {wrongFile.Stderr}");
        Assert.Contains($"runs {policy}, not {other}: reload re-reads the daemon's own file", wrongFile.Stderr);
        Assert.DoesNotContain("192.0.2.1", ns.Nft($"list set inet {DaemonTests.Table} allow_v4"));
        File.Delete(other);

        // The daemon compiles the file itself (--table: the CLI does not read it first): a typo is refused, located, exit 2.
        string running = ns.Nft("list ruleset");
        File.WriteAllText(policy, DaemonTests.Policy().Replace("tcp: [443]", "tpc: [443]"));
        var typo = CliRunner.Run($"reload --table {DaemonTests.Table} --netns {ns.Name}");
        Assert.True(typo.ExitCode == 2, $"exit {typo.ExitCode}: {typo.Stdout} {typo.Stderr}");
        Assert.StartsWith($"netlinkfence: reload refused, the running policy stays: {policy}:", typo.Stderr);
        Assert.Contains("unknown key 'tpc'", typo.Stderr);
        Assert.Equal(running, ns.Nft("list ruleset"));

        // Read by the CLI first (--policy): the same located error, before the daemon is asked.
        var read = CliRunner.Run($"reload --policy {policy} --netns {ns.Name}");
        Assert.True(read.ExitCode == 2, $"exit {read.ExitCode}: {read.Stderr}");
        Assert.Contains($"{policy}:", read.Stderr);
        Assert.Contains("unknown key 'tpc'", read.Stderr);
        Assert.Equal(running, ns.Nft("list ruleset"));
        Assert.False(daemon.HasExited);

        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitExit());
        // No daemon: nothing reloaded, exit 1, and it says so (never a silent success).
        var none = CliRunner.Run($"reload --table {DaemonTests.Table} --netns {ns.Name}");
        Assert.True(none.ExitCode == 1, $"exit {none.ExitCode}: {none.Stderr}");
        Assert.Contains($"no 'netlinkfence run' holds table inet {DaemonTests.Table} in namespace {ns.Name}", none.Stderr);
        Assert.Contains("nothing was reloaded", none.Stderr);
        File.Delete(policy);
    }
}
