using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>The transport against the real kernel, each test in its own namespace: the sequence wrap, cancellation, namespace threads.</summary>
public sealed class TransportKernelTests
{
    /// <summary>A rule for a chain that does not exist: the kernel refuses operation 2 (ENOENT).</summary>
    private static Transaction RefusedAtTheThirdOperation() => new Transaction()
        .AddTable(Build.Table("t")).AddChain(Build.BaseChain("t")).AddRule(Build.AcceptTo("t", "missing", 1));

    [Theory]
    [InlineData(uint.MaxValue - 1, false)] // BEGIN 2^32-2, table 2^32-1, chain 0, rule 1 (refused), END 2
    [InlineData(uint.MaxValue - 1, true)]
    [InlineData(uint.MaxValue, false)] // BEGIN 2^32-1, table 0 ...
    public async Task ABatchRefusedAcrossTheSequenceWrapIsReportedAsRefused(uint firstSequence, bool synchronous)
    {
        using var ns = TestNamespace.Create();
        using var nft = NftablesConnection.Open(new() { NetworkNamespace = ns.Name }, firstSequence);
        var tx = RefusedAtTheThirdOperation();
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(async () =>
        {
            if (synchronous)
                nft.Commit(tx);
            else
                await nft.CommitAsync(tx);
        });
        var failure = Assert.Single(e.Failures);
        Assert.Equal(2, failure.OperationIndex);
        Assert.Equal((int)Errno.NOENT, failure.Error.Errno);
        Assert.Equal("", ns.Nft("list ruleset").Trim()); // nothing applied

        // The connection goes on past the wrap: a good batch commits.
        await nft.CommitAsync(new Transaction().AddTable(Build.Table("t")));
        Assert.Contains("table inet t", ns.Nft("list ruleset"));
    }

    [Fact]
    public async Task ACommitWhoseRepliesAreAlreadyQueuedCompletesOnTheCallersThreadWithoutWaiting()
    {
        // nfnetlink runs the batch inside sendmsg, so its replies (the NEWGEN echo, the last message's ACK, any
        // error) are queued before the library looks: the async commit must not wait on epoll or hop threads for them.
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var committing = nft.CommitAsync(new Transaction().AddTable(Build.Table("t")).AddChain(Build.BaseChain("t")));
        Assert.True(committing.IsCompleted);
        await committing;
        var refused = nft.CommitAsync(RefusedAtTheThirdOperation());
        Assert.True(refused.IsCompleted);
        await Assert.ThrowsAsync<TransactionRejectedException>(() => refused.AsTask());
        var reading = nft.GetGenerationAsync();
        Assert.True(reading.IsCompleted);
        Assert.Equal((await committing).GenerationAfter, await reading);
    }

    [Fact]
    public async Task AWaitForAReplyThatNeverComesEndsWhenCancelled()
    {
        using var ns = TestNamespace.Create();
        using var channel = await NftablesChannel.OpenAsync(ns.Path);
        // NLMSG_NOOP without NLM_F_ACK: the kernel processes it and answers nothing, so the wait is real.
        var request = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(request, 16);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(4), (ushort)NetlinkMessageType.NOOP);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(6), (ushort)NetlinkMessageFlags.REQUEST);
        using var cancel = new CancellationTokenSource();
        var waiting = channel.Connection.RequestAsync(request, "waiting for nothing", null, synchronous: false, cancel.Token).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        // The socket is still good after the abandoned wait.
        uint generation = await channel.GetGenerationAsync(synchronous: false, CancellationToken.None);
        Assert.Equal(generation, channel.GetGeneration(CancellationToken.None));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ADumpCancelledMidWayThrowsAndTheNextDumpIsWhole(bool synchronous)
    {
        const int Rules = 2000; // far more than one dump datagram holds
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var tx = new Transaction().AddTable(Build.Table("t")).AddChain(Build.BaseChain("t"));
        for (int i = 0; i < Rules; i++)
            tx.AddRule(Build.AcceptTo("t", "output", i));
        await nft.CommitAsync(tx);

        using var channel = await NftablesChannel.OpenAsync(ns.Path);
        using var cancel = new CancellationTokenSource();
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await channel.DumpAsync(NftMessageType.GETRULE, NetfilterFamily.INET, null,
            (in NetlinkMessage _) => { if (++seen == 10) cancel.Cancel(); }, () => seen = 0, synchronous, cancel.Token));
        Assert.InRange(seen, 10, Rules - 1); // stopped before the end: the kernel's dump was left running

        int rules = 0;
        await channel.DumpAsync(NftMessageType.GETRULE, NetfilterFamily.INET, null, (in NetlinkMessage _) => rules++, () => rules = 0,
            synchronous, CancellationToken.None);
        Assert.Equal(Rules, rules);
        Assert.Equal(Rules, (await nft.ListTableAsync(NftFamily.Inet, "t"))!.Rules.Count);
        Assert.Equal(Rules, nft.ListTable(NftFamily.Inet, "t")!.Rules.Count);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ThrowInsideTheNamespace() => throw new InvalidOperationException("inside");

    [Fact]
    public async Task AFailureInsideANamespaceKeepsItsStackTrace()
    {
        using var ns = TestNamespace.Create();
        var e = Assert.Throws<InvalidOperationException>(() => NetworkNamespace.Run(ns.Path, ThrowInsideTheNamespace));
        Assert.Contains(nameof(ThrowInsideTheNamespace), e.StackTrace);
        var e2 = await Assert.ThrowsAsync<InvalidOperationException>(() => NetworkNamespace.RunAsync(ns.Path, ThrowInsideTheNamespace));
        Assert.Contains(nameof(ThrowInsideTheNamespace), e2.StackTrace);
    }

    [Fact]
    public async Task RunAsyncRunsInTheNamespaceAndReturnsItsResult()
    {
        using var ns = TestNamespace.Create();
        string inode = TestNamespace.Run("stat", $"-L -c %i {ns.Path}").Trim();
        string? there = await NetworkNamespace.RunAsync(ns.Path, () => new FileInfo("/proc/thread-self/ns/net").LinkTarget);
        Assert.Equal($"net:[{inode}]", there);
        Assert.NotEqual(there, new FileInfo("/proc/thread-self/ns/net").LinkTarget);
    }

    [Fact]
    public async Task NoThreadOfTheProcessStaysInTheNamespaceAfterRunAsync()
    {
        using var ns = TestNamespace.Create();
        string target = $"net:[{TestNamespace.Run("stat", $"-L -c %i {ns.Path}").Trim()}]";
        // With a high minimum, the pool adds a worker on whichever thread queues work. Before the fix that was the
        // namespace thread itself, completing the task, and the worker stayed in the namespace (ci70 saw a test's
        // continuation run there).
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), io);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => NetworkNamespace.RunAsync(ns.Path, () => Thread.CurrentThread.ManagedThreadId)));
        }
        finally
        {
            ThreadPool.SetMinThreads(workers, io);
        }
        // The namespace threads end just after; a pool worker born in the namespace idles there for 20 s.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        List<string> inside;
        while ((inside = ThreadsIn(target)).Count > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Empty(inside);
    }

    private static List<string> ThreadsIn(string netns) => Directory.GetDirectories("/proc/self/task").Where(task =>
    {
        try
        {
            return new FileInfo(Path.Combine(task, "ns", "net")).LinkTarget == netns;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // the thread ended meanwhile
        }
    }).ToList();
}
