using System.Diagnostics;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables.Monitoring;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Monitoring;

/// <summary>
/// The monitor against the real kernel: changes made by <c>nft</c> in a fresh namespace arrive decoded, each with the
/// generation of its commit, nft's port id, and nft's pid and name from NEWGEN.
/// </summary>
public sealed class NftablesMonitorKernelTests
{
    // A hang guard only (a loaded CI machine): the assertions never depend on how long anything took.
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task ChangesMadeByNftArriveDecodedWithTheirGenerationAndCommitter()
    {
        using var ns = TestNamespace.Create();
        await using var monitor = await NftablesMonitor.OpenAsync(new() { NetworkNamespace = ns.Name });
        using var guard = new CancellationTokenSource(Patience);
        await using var changes = monitor.ReadChangesAsync(guard.Token).GetAsyncEnumerator(guard.Token);

        async Task<(List<NftablesChange> Changes, int Pid)> Commit(string command)
        {
            int pid = RunNft(ns, command);
            var seen = new List<NftablesChange>();
            while (await changes.MoveNextAsync())
            {
                seen.Add(changes.Current);
                if (changes.Current.Kind == NftablesChangeKind.Committed)
                    return (seen, pid);
            }
            throw new InvalidOperationException("the monitor ended");
        }

        var generations = new List<uint>();
        void AssertCommit(List<NftablesChange> seen, int pid)
        {
            var commit = seen[^1];
            Assert.Equal(NftablesChangeKind.Committed, commit.Kind);
            Assert.Equal(pid, commit.ProcessId);
            Assert.Equal("nft", commit.ProcessName);
            Assert.NotEqual(0u, commit.PortId);
            Assert.NotEqual(monitor.PortId, commit.PortId);
            Assert.NotNull(commit.Generation);
            generations.Add(commit.Generation!.Value);
            foreach (var change in seen)
            {
                Assert.Equal(commit.Generation, change.Generation);
                Assert.Equal(commit.PortId, change.PortId);
                Assert.Equal(pid, change.ProcessId);
                Assert.Equal("nft", change.ProcessName);
            }
        }

        var (added, pid1) = await Commit("add table inet mon");
        AssertCommit(added, pid1);
        var table = Assert.Single(added, c => c.Kind == NftablesChangeKind.TableAdded);
        Assert.Equal(NftFamily.Inet, table.Family);
        Assert.Equal("mon", table.Table!.Name);
        Assert.NotEqual(0ul, table.Table.Handle);

        var (chainAdded, pid2) = await Commit("add chain inet mon out { type filter hook output priority 0 ; policy accept ; }");
        AssertCommit(chainAdded, pid2);
        var chain = Assert.Single(chainAdded, c => c.Kind == NftablesChangeKind.ChainAdded).Chain!;
        Assert.Equal(("mon", "out"), (chain.Table, chain.Name));
        Assert.Equal(HookPoint.Output, chain.Hook!.Hook);

        var (setAdded, pid3) = await Commit("add set inet mon dests { type ipv4_addr ; }");
        AssertCommit(setAdded, pid3);
        var set = Assert.Single(setAdded, c => c.Kind == NftablesChangeKind.SetAdded).Set!;
        Assert.Equal(("mon", "dests"), (set.Table, set.Name));

        var (elementsAdded, pid4) = await Commit("add element inet mon dests { 192.0.2.1, 192.0.2.2 }");
        AssertCommit(elementsAdded, pid4);
        var elements = elementsAdded.Where(c => c.Kind == NftablesChangeKind.ElementsAdded).ToList();
        Assert.NotEmpty(elements);
        Assert.All(elements, e => Assert.Equal(("mon", "dests"), (e.TableName, e.SetName)));
        Assert.Equal(["c0000201", "c0000202"],
            elements.SelectMany(e => e.Elements!).Select(e => Convert.ToHexStringLower(e.Key.Span)).Order());

        var (ruleAdded, pid5) = await Commit("add rule inet mon out ip daddr 192.0.2.7 counter drop");
        AssertCommit(ruleAdded, pid5);
        var rule = Assert.Single(ruleAdded, c => c.Kind == NftablesChangeKind.RuleAdded).Rule!;
        Assert.Equal(("mon", "out"), (rule.Table, rule.Chain));
        Assert.NotEqual(0ul, rule.Handle);
        Assert.Contains(rule.Expressions, e => e is CmpExpression { Data: var d } && Convert.ToHexStringLower(d.Span) == "c0000207");
        Assert.Contains(rule.Expressions, e => e is CounterExpression);
        Assert.Contains(rule.Expressions, e => e is ImmediateExpression { Verdict: not null });

        var (ruleDeleted, pid6) = await Commit($"delete rule inet mon out handle {rule.Handle}");
        AssertCommit(ruleDeleted, pid6);
        Assert.Equal(rule.Handle, Assert.Single(ruleDeleted, c => c.Kind == NftablesChangeKind.RuleDeleted).Rule!.Handle);

        var (tableDeleted, pid7) = await Commit("delete table inet mon");
        AssertCommit(tableDeleted, pid7);
        Assert.Equal("mon", Assert.Single(tableDeleted, c => c.Kind == NftablesChangeKind.TableDeleted).Table!.Name);
        Assert.Contains(tableDeleted, c => c.Kind == NftablesChangeKind.ChainDeleted && c.Chain!.Name == "out");
        Assert.Contains(tableDeleted, c => c.Kind == NftablesChangeKind.SetDeleted && c.SetName == "dests");

        // One commit per nft run: every generation is newer than the one before.
        for (int i = 1; i < generations.Count; i++)
            Assert.True(generations[i] > generations[i - 1], $"generations {string.Join(", ", generations)}");
        Assert.Equal(0, monitor.Overruns);
    }

    [Fact]
    public async Task CancellingEndsTheEnumerationAndTheMonitorKeepsWorking()
    {
        using var ns = TestNamespace.Create();
        await using var monitor = NftablesMonitor.Open(new() { NetworkNamespace = ns.Name });
        using var cancel = new CancellationTokenSource();
        var reading = Task.Run(async () =>
        {
            await foreach (var _ in monitor.ReadChangesAsync(cancel.Token))
            {
            }
        });
        cancel.Cancel(); // whether the reader is already waiting on epoll or not yet started
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(Patience));

        // Nothing was lost by cancelling: a change made afterwards is read by the next enumeration.
        RunNft(ns, "add table ip after");
        using var guard = new CancellationTokenSource(Patience);
        await foreach (var change in monitor.ReadChangesAsync(guard.Token))
        {
            Assert.Equal(NftablesChangeKind.TableAdded, change.Kind);
            Assert.Equal("after", change.Table!.Name);
            break;
        }
    }

    [Fact]
    public async Task DisposingEndsAWaitingEnumeration()
    {
        using var ns = TestNamespace.Create();
        var monitor = NftablesMonitor.Open(new() { NetworkNamespace = ns.Name });
        var reading = Task.Run(async () =>
        {
            int count = 0;
            await foreach (var _ in monitor.ReadChangesAsync())
                count++;
            return count;
        });
        await monitor.DisposeAsync();
        Assert.Equal(0, await reading.WaitAsync(Patience));
    }

    [Fact]
    public async Task AnOverflowIsReportedAsLostAndTheStreamGoesOn()
    {
        using var ns = TestNamespace.Create();
        // The kernel's default receive queue (rmem_default, ~208 KiB) and a reader that stops after one byte in the
        // pipe: the queue overflows while nobody reads, as it would behind a slow consumer.
        await using var monitor = NftablesMonitor.Open(new() { NetworkNamespace = ns.Name },
            new NetlinkSubscriptionLimits { SocketReceiveBuffer = 0, PauseWriterThreshold = 1 });
        // One element notification each: ~40,000 messages, megabytes of skbs.
        var elements = string.Join(", ", Enumerable.Range(0, 40_000).Select(i => $"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}"));
        ns.Nft("-f -", $"add table inet flood\nadd set inet flood s {{ type ipv4_addr ; }}\nadd element inet flood s {{ {elements} }}\n");

        using var guard = new CancellationTokenSource(Patience);
        using var seen = new CancellationTokenSource();
        long lost = 0, elementsSeen = 0;
        Task? committer = null;
        await foreach (var change in monitor.ReadChangesAsync(guard.Token))
        {
            if (change.Kind == NftablesChangeKind.Lost)
            {
                lost += change.LostCount;
                // The kernel reports an overflow once, then drops silently until the queue has been read empty; a
                // change made meanwhile is lost too. So keep making changes until one arrives: retries, not a timing assert.
                committer ??= Task.Run(async () =>
                {
                    for (int n = 1; !seen.IsCancellationRequested; n++)
                    {
                        RunNft(ns, $"add table ip after{n}");
                        await Task.Delay(200, seen.Token).ContinueWith(_ => { });
                    }
                });
            }
            else if (change.Kind == NftablesChangeKind.ElementsAdded)
                elementsSeen += change.Elements!.Count;
            else if (change.Kind == NftablesChangeKind.TableAdded && change.Table!.Name.StartsWith("after"))
            {
                Assert.NotNull(change.Generation); // decoded whole, with its commit
                break; // the stream goes on after the overflow
            }
        }
        seen.Cancel();
        await committer!.WaitAsync(Patience);
        Assert.True(lost > 0, $"no loss reported, {elementsSeen} elements seen");
        Assert.Equal(lost, monitor.Overruns);
        Assert.True(elementsSeen < 40_000, $"{elementsSeen} elements seen although the queue overflowed");
    }

    /// <summary>Runs nft in the namespace and returns its pid: <c>ip netns exec</c> execs nft without forking.</summary>
    private static int RunNft(TestNamespace ns, string command)
    {
        var start = new ProcessStartInfo("ip", ["netns", "exec", ns.Name, "nft", command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"nft {command}: {stderr}");
        return process.Id;
    }
}
