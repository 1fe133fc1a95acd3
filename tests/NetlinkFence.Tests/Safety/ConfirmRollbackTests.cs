using System.Diagnostics;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Safety;

/// <summary>
/// <c>apply --confirm-within</c>, <c>confirm</c> and <c>rollback</c> through the CLI, in fresh namespaces. The CLI
/// process exits right after apply (CliRunner waits for its output to close), so the rollback is done by the
/// detached waiter alone, as after a lost terminal. Every comparison uses nft as the oracle.
/// </summary>
public sealed class ConfirmRollbackTests
{
    private static readonly string Before = SafetyPolicies.Write(SafetyPolicies.Text("[443]"));
    private static readonly string After = SafetyPolicies.Write(SafetyPolicies.Text("[443, 8443]"));

    [Fact]
    public void ConfirmedApplyStays()
    {
        using var ns = TestNamespace.Create();
        Ok($"apply {Before} --netns {ns.Name}");
        // The window must outlast a CLI start and an nft listing on a loaded 2-core runner (2 s did not, in CI).
        Ok($"apply {After} --netns {ns.Name} --confirm-within 15s");
        string applied = ns.Nft("list ruleset");
        Assert.Contains("8443", applied);
        Assert.Contains("confirmed", Ok($"confirm --netns {ns.Name}"));
        Thread.Sleep(16_000); // past the window: a waiter that ignored the confirm would have rolled back by now
        Assert.Equal(applied, ns.Nft("list ruleset"));
        Assert.Equal(1, CliRunner.Run($"confirm --netns {ns.Name}").ExitCode); // nothing left to confirm
    }

    [Fact]
    public void UnconfirmedApplyRollsBackOnTimeToTheIdenticalPreviousTable()
    {
        using var ns = TestNamespace.Create();
        Ok($"apply {Before} --netns {ns.Name}");
        string previous = TableSnapshotTests.MaskTableHandles(ns.Nft("-j list ruleset"));
        // The deadline is set at the commit, somewhere between starting the CLI (t0) and its exit (t1).
        var clock = Stopwatch.StartNew();
        Ok($"apply {After} --netns {ns.Name} --confirm-within 6s");
        var t1 = clock.Elapsed;
        Assert.Contains("8443", ns.Nft("list ruleset"));
        // Still the new table well before the earliest possible deadline (2 s for nft to start and list on a loaded runner)...
        if (clock.Elapsed < TimeSpan.FromSeconds(4))
        {
            Thread.Sleep(TimeSpan.FromSeconds(4) - clock.Elapsed);
            Assert.Contains("8443", ns.Nft("list ruleset"));
        }
        // ...and the old one, byte for byte (the table's own handle aside), soon after the latest: the waiter polls
        // every 100 ms, and its restore is a JIT-compiled process's first transaction on a loaded runner.
        while (ns.Nft("list ruleset").Contains("8443") && clock.Elapsed < t1 + TimeSpan.FromSeconds(12))
            Thread.Sleep(50);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(6), t1 + TimeSpan.FromSeconds(10));
        Assert.Equal(previous, TableSnapshotTests.MaskTableHandles(ns.Nft("-j list ruleset")));
        Assert.Equal(1, CliRunner.Run($"confirm --netns {ns.Name}").ExitCode); // too late
    }

    [Fact]
    public void UnconfirmedFirstEverApplyRemovesTheTable()
    {
        using var ns = TestNamespace.Create();
        ns.Nft("add table inet other");
        // Long enough that the table is surely listed before the deadline, however slow the CLI's exit and nft's start.
        Ok($"apply {Before} --netns {ns.Name} --confirm-within 8s");
        Assert.Contains("netlinkfence", ns.Nft("list tables"));
        var clock = Stopwatch.StartNew();
        while (ns.Nft("list tables").Contains("netlinkfence") && clock.Elapsed < TimeSpan.FromSeconds(30))
            Thread.Sleep(50);
        Assert.Equal("table inet other\n", ns.Nft("list tables"));
    }

    [Fact]
    public void RollbackVerbRestoresThePreviousTableOnDemand()
    {
        using var ns = TestNamespace.Create();
        Ok($"apply {Before} --netns {ns.Name}");
        string previous = TableSnapshotTests.MaskTableHandles(ns.Nft("-j list ruleset"));
        Ok($"apply {After} --netns {ns.Name}");
        Assert.Contains("8443", ns.Nft("list ruleset"));
        Assert.Contains("restored", Ok($"rollback --netns {ns.Name}"));
        Assert.Equal(previous, TableSnapshotTests.MaskTableHandles(ns.Nft("-j list ruleset")));
        Assert.Equal(1, CliRunner.Run($"rollback --netns {ns.Name}").ExitCode); // nothing saved any more
    }

    [Fact]
    public void RollbackVerbCancelsAPendingConfirmAndRemovesAFirstEverTable()
    {
        using var ns = TestNamespace.Create();
        // The window must outlast two CLI runs on a loaded runner (with 2 s, and once with 12 s, the waiter rolled back
        // first, in CI: the apply and the rollback took more than 12 s together).
        var clock = Stopwatch.StartNew();
        Ok($"apply {Before} --netns {ns.Name} --confirm-within 30s");
        Assert.Contains("removed", Ok($"rollback --netns {ns.Name}"));
        Assert.Equal("", ns.Nft("list ruleset"));
        Ok($"apply {After} --netns {ns.Name}"); // applied after the rollback: the old waiter must not touch it
        Thread.Sleep(TimeSpan.FromSeconds(31) - clock.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero); // past its deadline
        Assert.Contains("8443", ns.Nft("list ruleset"));
    }

    [Fact]
    public void WaiterSurvivesItsTerminalSessionBeingKilled()
    {
        using var ns = TestNamespace.Create();
        // The CLI runs as the only job of a fresh session; right after apply returns, everything in that
        // session's process group is sent SIGHUP and SIGKILL, as when a terminal (or an SSH session) dies.
        // The deadline leaves a loaded runner time to start the CLI and its waiter before the session dies.
        string script = $"dotnet {CliRunner.CliPath} apply {Before} --netns {ns.Name} --confirm-within 12s >/dev/null 2>&1; kill -HUP 0; kill -KILL 0";
        var clock = Stopwatch.StartNew();
        var (exit, _, stderr) = TestNamespace.TryRun("setsid", $"--wait bash -c \"{script}\"");
        Assert.True(exit != 0 && clock.Elapsed < TimeSpan.FromSeconds(11), $"the session should have been killed right after apply: exit {exit} {stderr}");
        Assert.Contains("netlinkfence", ns.Nft("list tables"));
        while (ns.Nft("list tables").Contains("netlinkfence") && clock.Elapsed < TimeSpan.FromSeconds(30))
            Thread.Sleep(50);
        Assert.Equal("", ns.Nft("list ruleset"));
    }

    private static string Ok(string arguments)
    {
        var (exit, stdout, stderr) = CliRunner.Run(arguments);
        Assert.True(exit == 0, $"netlinkfence {arguments} exited {exit}: {stdout}{stderr}");
        return stdout;
    }
}
