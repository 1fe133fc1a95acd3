using System.Diagnostics;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Safety;

/// <summary>
/// The confirm waiter against what happens around it: a later apply, a foreign writer, SIGTERM and SIGKILL, the
/// namespace name being re-used, and different spellings of one namespace. Real CLI processes in fresh namespaces;
/// nft is the oracle.
/// </summary>
public sealed class ConfirmWaiterTests
{
    private static readonly string Before = SafetyPolicies.Write(SafetyPolicies.Text("[443]"));
    private static readonly string After = SafetyPolicies.Write(SafetyPolicies.Text("[443, 8443]"));
    private static readonly string Third = SafetyPolicies.Write(SafetyPolicies.Text("[443, 9443]"));

    [Fact]
    public void PlainApplyWhileAConfirmationIsPendingIsRefusedAndChangesNothing()
    {
        using var ns = TestNamespace.Create();
        Ok($"apply {Before} --netns {ns.Name}");
        string before = TableSnapshotTests.MaskTableHandles(ns.Nft("-j list ruleset"));
        Ok($"apply {After} --netns {ns.Name} --confirm-within 120s");
        var (exit, stdout, stderr) = CliRunner.Run($"apply {Third} --netns {ns.Name}");
        Assert.True(exit == 2, $"exit {exit}: {stdout}{stderr}");
        Assert.Contains("waiting for confirmation", stderr);
        Assert.Contains($"netlinkfence confirm --netns {ns.Name}", stderr);
        Assert.Contains("nothing was changed", stderr);
        Assert.Contains("8443", ns.Nft("list ruleset"));
        // The refused apply left the rollback alone: it still comes (now, by SIGTERM), to the table before the unconfirmed apply.
        int waiter = WaiterProcess.WaitFor(ns);
        WaiterProcess.Signal(waiter, "TERM");
        Assert.True(WaiterProcess.Ended(waiter), "the waiter should end after SIGTERM");
        Assert.Equal(before, TableSnapshotTests.MaskTableHandles(ns.Nft("-j list ruleset")));
    }

    [Fact]
    public void ASecondUnconfirmedApplyTakesOverAndTheWaiterFollowsItsTable()
    {
        using var ns = TestNamespace.Create();
        Ok($"apply {Before} --netns {ns.Name}");
        string before = TableSnapshotTests.MaskTableHandles(ns.Nft("-j list ruleset"));
        Ok($"apply {After} --netns {ns.Name} --confirm-within 120s");
        Assert.Contains("took over the pending rollback", Ok($"apply {Third} --netns {ns.Name} --confirm-within 2s"));
        Assert.Contains("9443", ns.Nft("list ruleset"));
        WaitUntil(() => !ns.Nft("list ruleset").Contains("9443"), 20);
        Assert.Equal(before, TableSnapshotTests.MaskTableHandles(ns.Nft("-j list ruleset")));
    }

    [Fact]
    public void WaiterNeverRestoresOverATableItDidNotLeaveThere()
    {
        using var ns = TestNamespace.Create();
        Ok($"apply {Before} --netns {ns.Name}");
        Ok($"apply {After} --netns {ns.Name} --confirm-within 10s");
        int waiter = WaiterProcess.WaitFor(ns);
        // Another tool re-creates the table under the same name meanwhile.
        ns.Nft("-f -", "add table inet netlinkfence\ndelete table inet netlinkfence\ntable inet netlinkfence {\n  chain someone_elses {\n  }\n}\n");
        Assert.True(WaiterProcess.Ended(waiter, 30), "the waiter should end after its deadline");
        string live = ns.Nft("list ruleset");
        Assert.Contains("someone_elses", live);
        Assert.DoesNotContain("443", live);
        Assert.Contains("no longer the one that was applied", string.Join("\n", File.ReadAllLines(LogPath(ns))));
    }

    [Fact]
    public void SigtermMakesTheWaiterRollBackAtOnceAndConfirmThenHasNothingToClaim()
    {
        using var ns = TestNamespace.Create();
        Ok($"apply {Before} --netns {ns.Name}");
        string before = TableSnapshotTests.MaskTableHandles(ns.Nft("-j list ruleset"));
        Ok($"apply {After} --netns {ns.Name} --confirm-within 120s");
        int waiter = WaiterProcess.WaitFor(ns);
        var clock = Stopwatch.StartNew();
        WaiterProcess.Signal(waiter, "TERM");
        Assert.True(WaiterProcess.Ended(waiter), "the waiter should end after SIGTERM");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "rolled back long before the deadline");
        Assert.Equal(before, TableSnapshotTests.MaskTableHandles(ns.Nft("-j list ruleset")));
        var confirm = CliRunner.Run($"confirm --netns {ns.Name}");
        Assert.True(confirm.ExitCode == 1, $"exit {confirm.ExitCode}: {confirm.Stdout}{confirm.Stderr}");
        Assert.Contains("nothing to confirm", confirm.Stderr);
        Assert.Contains("SIGTERM", confirm.Stderr); // the last log line says what happened
    }

    [Theory]
    [InlineData("INT")]
    [InlineData("HUP")]
    public void SigintAndSighupRollBackToo(string signal)
    {
        using var ns = TestNamespace.Create();
        Ok($"apply {Before} --netns {ns.Name} --confirm-within 120s");
        int waiter = WaiterProcess.WaitFor(ns);
        WaiterProcess.Signal(waiter, signal);
        Assert.True(WaiterProcess.Ended(waiter), $"the waiter should end after SIG{signal}");
        Assert.Equal("", ns.Nft("list ruleset"));
    }

    [Fact]
    public void AfterSigkillConfirmAndApplySayTheWaiterIsGone()
    {
        using var ns = TestNamespace.Create();
        Ok($"apply {Before} --netns {ns.Name}");
        Ok($"apply {After} --netns {ns.Name} --confirm-within 120s");
        int waiter = WaiterProcess.WaitFor(ns);
        WaiterProcess.Signal(waiter, "KILL");
        Assert.True(WaiterProcess.Ended(waiter));

        var apply = CliRunner.Run($"apply {Third} --netns {ns.Name}");
        Assert.True(apply.ExitCode == 2, $"exit {apply.ExitCode}: {apply.Stdout}{apply.Stderr}");
        Assert.Contains($"rollback waiter (process {waiter}) is gone", apply.Stderr);
        Assert.Contains("nothing rolled it back, and nothing will", apply.Stderr);

        var confirm = CliRunner.Run($"confirm --netns {ns.Name}");
        Assert.True(confirm.ExitCode == 1, $"exit {confirm.ExitCode}: {confirm.Stdout}{confirm.Stderr}");
        Assert.DoesNotContain("cancelled", confirm.Stdout + confirm.Stderr);
        Assert.Contains("no rollback left to cancel", confirm.Stderr);
        Assert.Contains("8443", ns.Nft("list ruleset")); // kept, as confirm asks
        Ok($"apply {Third} --netns {ns.Name}"); // nothing pending any more
    }

    [Fact]
    public void RollbackLandsInTheNamespaceOfTheApplyEvenWhenItsNameIsReused()
    {
        using var ns = TestNamespace.Create();
        string old = ns.Path + "-old";
        Ok($"apply {Before} --netns {ns.Name} --confirm-within 10s");
        // Keep the original namespace reachable under another name, then give its name to a fresh one.
        File.WriteAllText(old, "");
        TestNamespace.Run("mount", $"--bind {ns.Path} {old}");
        try
        {
            TestNamespace.Run("ip", $"netns del {ns.Name}");
            TestNamespace.Run("ip", $"netns add {ns.Name}");
            ns.Nft("add table inet bystander");
            WaitUntil(() => TestNamespace.Run("ip", $"netns exec {ns.Name}-old nft list tables") == "", 30);
            Assert.Equal("table inet bystander\n", ns.Nft("list tables"));
        }
        finally
        {
            TestNamespace.TryRun("umount", old);
            File.Delete(old);
        }
    }

    [Fact]
    public void StateBelongsToTheNamespaceNotToHowItIsSpelled()
    {
        using var dotted = TestNamespace.Create(".x");
        using var underscored = new NamedNamespace(dotted.Name.Replace(".x", "_x"));
        Ok($"apply {Before} --netns {dotted.Name}");
        string before = TableSnapshotTests.MaskTableHandles(dotted.Nft("-j list ruleset"));
        Ok($"apply {After} --netns {dotted.Name}");
        Ok($"apply {After} --netns {underscored.Name}"); // its first apply: "no table before", in its own state
        Assert.Contains("restored", Ok($"rollback --netns {dotted.Name}"));
        Assert.Equal(before, TableSnapshotTests.MaskTableHandles(dotted.Nft("-j list ruleset")));

        // One namespace, two spellings: the same pending confirmation.
        Ok($"apply {After} --netns {dotted.Name} --confirm-within 120s");
        Assert.Contains("confirmed", Ok($"confirm --netns {dotted.Path}"));
    }

    [Fact]
    public void StateOfAVanishedNamespaceIsNeverUsedForAnother()
    {
        var gone = TestNamespace.Create();
        string stem = Stem(gone);
        string inode = WaiterProcess.Identity(gone).Split(':')[1];
        Ok($"apply {Before} --netns {gone.Name}");
        Ok($"apply {After} --netns {gone.Name}");
        Assert.True(File.Exists(stem + ".snapshot"), "apply keeps the replaced table, keyed on the namespace's identity");
        gone.Dispose();
        // The next namespace may well get the same inode: its state must not be the vanished one's either way.
        using var next = TestNamespace.Create();
        var (exit, stdout, stderr) = CliRunner.Run($"rollback --netns {next.Name}");
        Assert.True(exit == 1, $"exit {exit}: {stdout}{stderr}");
        Assert.Contains("nothing to roll back", stderr);
        // Removed, unless a namespace of a test running in parallel holds that inode now (its first command discards it then).
        bool heldAgain = TestNamespace.Run("bash", "-c \"stat -L -c %i /run/netns/* 2>/dev/null || true\"").Split('\n').Contains(inode);
        Assert.False(File.Exists(stem + ".snapshot") && !heldAgain, $"{stem}.snapshot outlived its namespace");
        Assert.Equal("", next.Nft("list ruleset"));
    }

    internal static string Stem(TestNamespace ns) =>
        Path.Combine(WaiterProcess.StateDirectory, $"netns-{WaiterProcess.Identity(ns).Replace(':', '-')}.netlinkfence");

    private static string LogPath(TestNamespace ns) =>
        Path.Combine(WaiterProcess.StateDirectory, $"netns-{WaiterProcess.Identity(ns).Replace(':', '-')}.netlinkfence.log");

    internal static void WaitUntil(Func<bool> condition, double seconds)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, $"condition not met within {seconds}s");
            Thread.Sleep(50);
        }
    }

    internal static string Ok(string arguments)
    {
        var (exit, stdout, stderr) = CliRunner.Run(arguments);
        Assert.True(exit == 0, $"netlinkfence {arguments} exited {exit}: {stdout}{stderr}");
        return stdout;
    }

    /// <summary>A namespace with an exact name (to collide with another one's spelling).</summary>
    private sealed class NamedNamespace : IDisposable
    {
        public NamedNamespace(string name)
        {
            Name = name;
            TestNamespace.Run("ip", $"netns add {name}");
        }

        public string Name { get; }

        public void Dispose() => TestNamespace.TryRun("ip", $"netns del {Name}");
    }
}
