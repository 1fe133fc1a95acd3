using System.Net.Sockets;
using System.Text;
using NetlinkFence.Cli.Daemon;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;
using Xunit;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// <c>netlinkfence run</c> against the real kernel, each test in fresh namespaces: ownership (the kernel refuses
/// other processes, root nft included), fail-closed stop, adoption by the next run, one daemon per table, reload,
/// and what the control socket does with bad input.
/// </summary>
public sealed class DaemonTests
{
    internal const string Table = "netlinkfence";

    internal static string Policy(string destination = "203.0.113.50") => $"""
        version: 1
        egress:
          allow:
            - name: control
              to: [{destination}]
              tcp: [443]
        """;

    internal static string WritePolicy(string text)
    {
        // In the scratch directory, removed when the test process exits: a failed test leaves nothing in /tmp.
        string path = TestScratch.PathFor("nlf-daemon", ".yaml");
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    internal static async Task<uint> ReadGenerationAsync(TestNamespace ns)
    {
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        return await nft.GetGenerationAsync();
    }

    internal static async Task<Table?> ReadTableAsync(TestNamespace ns)
    {
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        return (await nft.ListTableAsync(NftFamily.Inet, Table))?.Table;
    }

    [Fact]
    public async Task OwnsTheTableSoForeignNftIsRefusedLeavesItOnSigtermAndTheNextRunAdoptsIt()
    {
        using var ns = TestNamespace.Create();
        string policy = WritePolicy(Policy());
        using (var daemon = DaemonProcess.Start(policy, ns))
        {
            daemon.WaitReady();
            Assert.Contains("mode: owner", daemon.Log);
            var owned = await ReadTableAsync(ns);
            Assert.NotNull(owned);
            Assert.Equal(Nftables.Table.OwnerFlag | Nftables.Table.PersistFlag, owned.Flags);
            Assert.NotNull(owned.Owner);

            string before = ns.Nft("list ruleset");
            string handle = ns.Nft("-a list chain inet netlinkfence output").Split('\n').Last(l => l.Contains("# handle")).Split("# handle ")[1].Trim();
            var delete = TestNamespace.TryRun("ip", $"netns exec {ns.Name} nft delete rule inet netlinkfence output handle {handle}");
            var add = TestNamespace.TryRun("ip", $"netns exec {ns.Name} nft add rule inet netlinkfence output accept");
            var drop = TestNamespace.TryRun("ip", $"netns exec {ns.Name} nft delete table inet netlinkfence");
            Assert.True(delete.ExitCode != 0 && delete.Stderr.Contains("Operation not permitted"), delete.Stderr);
            Assert.True(add.ExitCode != 0 && add.Stderr.Contains("Operation not permitted"), add.Stderr);
            Assert.True(drop.ExitCode != 0 && drop.Stderr.Contains("Operation not permitted"), drop.Stderr);
            Assert.Equal(before, ns.Nft("list ruleset"));

            // Debian's nftables.service loads /etc/nftables.conf, which starts with 'flush ruleset': the kernel skips an
            // owned table, so the load succeeds and the daemon's table stays whole.
            string conf = TestScratch.PathFor("nlf-nftables", ".conf");
            File.WriteAllText(conf, "flush ruleset\ntable inet admin {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n");
            var load = TestNamespace.TryRun("ip", $"netns exec {ns.Name} nft -f {conf}");
            File.Delete(conf);
            Assert.True(load.ExitCode == 0, load.Stderr);
            Assert.Contains("table inet admin", ns.Nft("list tables"));
            ns.Nft("delete table inet admin");
            Assert.Equal(before, ns.Nft("list ruleset"));
            var status = CliRunner.Run($"status --policy {policy} --netns {ns.Name}");
            Assert.True(status.ExitCode == 0, status.Stderr);
            Assert.StartsWith($"table inet {Table}: owned by the daemon (pid {daemon.Pid}, policy {policy}): no other process, root 'nft' included, "
                + "can change or delete it, and 'nft flush ruleset' leaves it alone\n", status.Stdout);

            daemon.Signal("TERM");
            Assert.Equal(0, daemon.WaitExit());
            Assert.Contains("stays in place", daemon.Log);
            Assert.Equal(WithoutOwnership(before), WithoutOwnership(ns.Nft("list ruleset")));
        }
        // The socket file is still there, but nobody answers on it: status reads the kernel and says so.
        Assert.StartsWith($"table inet {Table}: no daemon holds it:", CliRunner.Run($"status --policy {policy} --netns {ns.Name}").Stdout);

        // Orphaned: persist without owner (the kernel clears the owner flag when the socket closes); still filtering.
        var orphan = await ReadTableAsync(ns);
        Assert.NotNull(orphan);
        Assert.Equal(Nftables.Table.PersistFlag, orphan.Flags);
        Assert.Null(orphan.Owner);

        using (var next = DaemonProcess.Start(policy, ns))
        {
            next.WaitReady();
            var adopted = await ReadTableAsync(ns);
            Assert.NotNull(adopted);
            Assert.Equal(Nftables.Table.OwnerFlag | Nftables.Table.PersistFlag, adopted.Flags);
            Assert.NotNull(adopted.Owner);
            var add = TestNamespace.TryRun("ip", $"netns exec {ns.Name} nft add rule inet netlinkfence output accept");
            Assert.True(add.ExitCode != 0 && add.Stderr.Contains("Operation not permitted"), add.Stderr);
            next.Signal("INT");
            Assert.Equal(0, next.WaitExit());
        }
        File.Delete(policy);
    }

    [Fact]
    public async Task StartingOverATableAnotherBuildAppliedLogsWhichBuildItReplaced()
    {
        using var ns = TestNamespace.Create();
        string policy = WritePolicy(Policy());
        Assert.Equal(0, CliRunner.Run($"apply {policy} --netns {ns.Name}").ExitCode);
        await OtherBuild.RelabelAsync(ns, Table, "netlinkfence 0.4.0"); // as the package before an upgrade left it
        using (var daemon = DaemonProcess.Start(policy, ns))
        {
            daemon.WaitReady();
            Assert.Contains($"the table it replaced was applied by netlinkfence 0.4.0; the table now names this build, {OtherBuild.ThisBuild()}", daemon.Log);
            Assert.Equal(OtherBuild.ThisBuild(), (await ReadTableAsync(ns))!.Comment);
            daemon.Signal("TERM");
            Assert.Equal(0, daemon.WaitExit());
        }
        // A restart of the same build replaces its own table: nothing to say.
        using (var again = DaemonProcess.Start(policy, ns))
        {
            again.WaitReady();
            Assert.DoesNotContain("the table it replaced", again.Log);
            again.Signal("TERM");
            Assert.Equal(0, again.WaitExit());
        }
        File.Delete(policy);
    }

    /// <summary>
    /// apply, remove and rollback of a table a daemon holds are refused before anything changes, with what to do
    /// instead. Owner mode: the kernel would refuse them too (before, each printed its EPERM on every operation); watch
    /// mode: the kernel would take them and the daemon undo them at once (before, remove printed that the namespace was
    /// unfiltered, exit 0, while the daemon put the table back).
    /// </summary>
    [Theory]
    [InlineData("")]
    [InlineData("--no-owner")]
    public void ASecondRunForTheSameTableRefusesAndApplyRemoveAndRollbackPointAtTheDaemon(string mode)
    {
        using var ns = TestNamespace.Create();
        string policy = WritePolicy(Policy());
        // Two applies before the daemon: the second keeps the first's table, so there is something to roll back to.
        Assert.Equal(0, CliRunner.Run($"apply {WritePolicy(Policy("203.0.113.51"))} --netns {ns.Name}").ExitCode);
        Assert.Equal(0, CliRunner.Run($"apply {policy} --netns {ns.Name}").ExitCode);
        using var daemon = DaemonProcess.Start(policy, ns, mode);
        daemon.WaitReady();
        string before = ns.Nft("list ruleset");

        var second = CliRunner.Run($"run {policy} --netns {ns.Name}");
        Assert.True(second.ExitCode == 2, $"exit {second.ExitCode}: {second.Stderr}");
        Assert.Contains($"another 'netlinkfence run' (pid {daemon.Pid}) already holds table inet {Table}", second.Stderr);

        string held = $"netlinkfence: table inet {Table} in namespace {ns.Name} is held by the running 'netlinkfence run' daemon (pid {daemon.Pid}, policy {policy}, "
            + (mode == "" ? "owner mode: the kernel lets only its socket change the table)" : "watch mode: it would undo any other change at once)");
        var apply = CliRunner.Run($"apply {policy} --netns {ns.Name} --output json");
        Assert.True(apply.ExitCode == 3, $"exit {apply.ExitCode}: {apply.Stderr}{apply.Stdout}");
        Assert.Equal($"{held}. Edit {policy} and reload it ('netlinkfence reload --policy {policy} --netns {ns.Name}'), or stop it first ('kill -TERM {daemon.Pid}'); nothing was changed\n", apply.Stderr);
        Assert.StartsWith("{\"error\":{\"exit\":3,\"kind\":\"kernel-refused\"", apply.Stdout);
        // Unless it would change nothing: --if-changed of the policy the daemon runs is a no-op, exit 0 (configuration
        // management may run it on every host).
        var unchanged = CliRunner.Run($"apply {policy} --netns {ns.Name} --if-changed");
        Assert.True(unchanged.ExitCode == 0, $"exit {unchanged.ExitCode}: {unchanged.Stderr}{unchanged.Stdout}");
        var changed = CliRunner.Run($"apply {WritePolicy(Policy("203.0.113.52"))} --netns {ns.Name} --if-changed");
        Assert.True(changed.ExitCode == 3 && changed.Stderr.StartsWith(held, StringComparison.Ordinal), $"exit {changed.ExitCode}: {changed.Stderr}{changed.Stdout}");

        var remove = CliRunner.Run($"remove --netns {ns.Name}");
        Assert.True(remove.ExitCode == 3, $"exit {remove.ExitCode}: {remove.Stderr}{remove.Stdout}");
        Assert.Equal($"{held}. Stop it first ('kill -TERM {daemon.Pid}'; it leaves the table in place), then remove; nothing was changed\n", remove.Stderr);

        var rollback = CliRunner.Run($"rollback --netns {ns.Name}");
        Assert.True(rollback.ExitCode == 3, $"exit {rollback.ExitCode}: {rollback.Stderr}{rollback.Stdout}");
        Assert.StartsWith($"{held}. Stop it first ('kill -TERM {daemon.Pid}'; it leaves the table in place), then roll back;", rollback.Stderr);

        Thread.Sleep(500); // a watch-mode daemon repairs what it sees within 100 ms: nothing to see, nothing to repair
        Assert.Equal(before, ns.Nft("list ruleset"));
        Assert.DoesNotContain("foreign change", daemon.Log);
        Assert.False(daemon.HasExited);
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitExit());
        // With the daemon stopped, the rollback point is still there.
        var rolledBack = CliRunner.Run($"rollback --netns {ns.Name}");
        Assert.True(rolledBack.ExitCode == 0, $"exit {rolledBack.ExitCode}: {rolledBack.Stderr}{rolledBack.Stdout}");
        Assert.Contains("203.0.113.51", ns.Nft("list ruleset"));
        File.Delete(policy);
    }

    [Fact]
    public async Task SighupReloadsTheFileAndABadFileKeepsTheRunningPolicy()
    {
        using var ns = TestNamespace.Create();
        string policy = WritePolicy(Policy("203.0.113.50"));
        using var daemon = DaemonProcess.Start(policy, ns);
        daemon.WaitReady();
        Assert.Contains("203.0.113.50", ns.Nft("list ruleset"));

        File.WriteAllText(policy, Policy("203.0.113.77"));
        daemon.Signal("HUP");
        Assert.True(daemon.WaitForLog("reloaded (SIGHUP)"), daemon.Log);
        string reloaded = ns.Nft("list ruleset");
        Assert.Contains("203.0.113.77", reloaded);
        Assert.DoesNotContain("203.0.113.50", reloaded);
        Assert.Equal((Nftables.Table.OwnerFlag | Nftables.Table.PersistFlag), (await ReadTableAsync(ns))!.Flags);

        File.WriteAllText(policy, Policy("203.0.113.77") + "\n    - name: broken\n      to: [$undefined]\n      tcp: [443]\n");
        daemon.Signal("HUP");
        Assert.True(daemon.WaitForLog("refused: the running policy stays in place"), daemon.Log);
        Assert.Contains(policy + ":", daemon.Log); // located: file:line:col
        Assert.Equal(reloaded, ns.Nft("list ruleset"));
        Assert.False(daemon.HasExited);
        Assert.Contains("\"ok\":true", Status(ns));
        File.Delete(policy);
    }

    [Fact]
    public void TheControlSocketAnswersBadInputWithAnErrorAndKeepsRunning()
    {
        using var ns = TestNamespace.Create();
        string policy = WritePolicy(Policy());
        using var daemon = DaemonProcess.Start(policy, ns);
        daemon.WaitReady();
        string path = DaemonPaths.ControlSocket(ns.Name, Table);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        string before = ns.Nft("list ruleset");

        string notJson = Send(path, Encoding.UTF8.GetBytes("this is not json\n"));
        Assert.Contains("\"ok\":false", notJson);
        Assert.Contains("not valid JSON", notJson);

        string huge = Send(path, new byte[10 * 1024 * 1024]);
        Assert.Contains("\"ok\":false", huge);
        Assert.Contains("longer than 65536 bytes", huge);

        var unknown = Parse(Send(path, Encoding.UTF8.GetBytes("{\"op\":\"explode\"}")));
        Assert.False(unknown.Ok);
        Assert.Contains("unknown op 'explode'", unknown.Message);
        string extra = Send(path, Encoding.UTF8.GetBytes("{\"op\":\"status\",\"evil\":1}"));
        Assert.Contains("not valid JSON", extra);

        Assert.False(daemon.HasExited);
        string status = Status(ns);
        Assert.Contains("\"ok\":true", status);
        Assert.Contains("\"mode\":\"owner\"", status);
        Assert.Contains($"\"pid\":{daemon.Pid}", status);
        Assert.Equal(before, ns.Nft("list ruleset"));
        Assert.True(daemon.WaitForLog("control: status from uid 0"), daemon.Log); // SO_PEERCRED; the log comes over another pipe than the answer
        File.Delete(policy);
    }

    [Fact]
    public async Task WithoutOwnershipAForeignRuleIsRepairedAndLogged()
    {
        using var ns = TestNamespace.Create();
        string policy = WritePolicy(Policy());
        using var daemon = DaemonProcess.Start(policy, ns, "--no-owner");
        daemon.WaitReady();
        Assert.Contains("mode: watch (--no-owner)", daemon.Log);
        string before = ns.Nft("list ruleset");
        Assert.Equal(0u, (await ReadTableAsync(ns))!.Flags);
        var status = CliRunner.Run($"status --policy {policy} --netns {ns.Name} --output json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        using (var json = System.Text.Json.JsonDocument.Parse(status.Stdout))
        {
            Assert.False(json.RootElement.GetProperty("owned").GetBoolean());
            Assert.Equal(daemon.Pid, json.RootElement.GetProperty("daemon").GetProperty("pid").GetInt32());
            Assert.Equal("watch", json.RootElement.GetProperty("daemon").GetProperty("mode").GetString());
        }
        Assert.StartsWith($"table inet {Table}: held by the daemon (pid {daemon.Pid}, policy {policy}) in watch mode, without owning it: "
            + "another process's change, a deletion included, is repaired as soon as the daemon sees it\n", CliRunner.Run($"status --policy {policy} --netns {ns.Name}").Stdout);

        ns.Nft("add rule inet netlinkfence output meta l4proto tcp accept");
        var seen = System.Diagnostics.Stopwatch.StartNew();
        // Polled, not timed: the repair is one atomic replace right after the foreign commit's notification.
        Assert.True(DaemonProcess.WaitUntil(() => ns.Nft("list ruleset") == before, 30), ns.Nft("list ruleset") + daemon.Log);
        Console.WriteLine($"foreign rule gone {seen.Elapsed.TotalMilliseconds:0} ms after nft returned (polling nft)");
        Assert.True(daemon.WaitForLog("repaired table inet netlinkfence"), daemon.Log);
        Assert.Contains("foreign change to table inet netlinkfence: RuleAdded inet netlinkfence output", daemon.Log);
        Assert.Contains("nft[", daemon.Log);

        ns.Nft("delete table inet netlinkfence");
        Assert.True(DaemonProcess.WaitUntil(() => TestNamespace.TryRun("ip", $"netns exec {ns.Name} nft list ruleset").Stdout == before, 30), daemon.Log);
        Assert.True(daemon.WaitForLog("repaired table inet netlinkfence", count: 2), daemon.Log);

        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitExit());
        Assert.Equal(before, ns.Nft("list ruleset"));
        File.Delete(policy);
    }

    [Fact]
    public void ReadinessGoesToAnAbstractNotifySocket()
    {
        using var ns = TestNamespace.Create();
        string policy = WritePolicy(Policy());
        using var daemon = DaemonProcess.Start(policy, ns, abstractNotify: true);
        daemon.WaitReady();
        var ready = daemon.Notifications.First(n => n.Contains("READY=1"));
        Assert.Contains("STATUS=table inet netlinkfence", ready);
        Assert.Contains($"MAINPID={daemon.Pid}", ready);
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitExit());
        // The notifications are read on the thread pool, apart from the exit: waited for, not assumed to be in already.
        Assert.True(DaemonProcess.WaitUntil(() => daemon.Notifications.Any(n => n.Contains("STOPPING=1")), 30), string.Join(" | ", daemon.Notifications));
        File.Delete(policy);
    }

    /// <summary>nft 1.0.6's listing without what ownership adds (the owner's program name, the flags line): the rules and sets.</summary>
    private static string WithoutOwnership(string listing) =>
        string.Join('\n', listing.Replace(" # progname dotnet", "").Split('\n').Where(l => !l.StartsWith("\tflags ", StringComparison.Ordinal)));

    private static ControlResponse Parse(string json) =>
        System.Text.Json.JsonSerializer.Deserialize(json, NetlinkFence.Cli.Daemon.ControlJsonContext.Default.ControlResponse)!;

    internal static string Status(TestNamespace ns) => Send(DaemonPaths.ControlSocket(ns.Name, Table), Encoding.UTF8.GetBytes("{\"op\":\"status\"}\n"));

    /// <summary>Sends raw bytes as one request (a client that sends more than the limit may see its send cut off) and reads the answer.</summary>
    internal static string Send(string path, byte[] request)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.ReceiveTimeout = 30_000;
        socket.Connect(new UnixDomainSocketEndPoint(path));
        try
        {
            socket.Send(request);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The daemon stopped reading at its limit and answered: read what it said.
        }
        var answer = new MemoryStream();
        byte[] buffer = new byte[4096];
        int n;
        while ((n = socket.Receive(buffer)) > 0)
            answer.Write(buffer, 0, n);
        return Encoding.UTF8.GetString(answer.ToArray());
    }
}
