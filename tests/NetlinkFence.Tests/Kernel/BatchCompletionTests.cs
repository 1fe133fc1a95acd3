using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>
/// How a commit learns its outcome, against the real kernel in a fresh namespace: from the one sendmsg that carries
/// the batch (the NEWGEN echoed for BATCH_BEGIN and the ACK of the last message), with every error still attributed
/// to its own operation. A socket wrapper counts what the library sends, so a second request (an end marker, a
/// GETGEN) or a reply read as the wrong message's fails these tests.
/// </summary>
public sealed class BatchCompletionTests
{
    private const string T = "t";

    /// <summary>The real socket underneath, with every datagram sent counted.</summary>
    private sealed class CountingTransport(INetlinkTransport socket) : INetlinkTransport
    {
        public int Sends { get; private set; }

        public uint PortId => socket.PortId;

        public void Send(ReadOnlySpan<byte> datagram)
        {
            Sends++;
            socket.Send(datagram);
        }

        public void Send(ReadOnlySpan<ReadOnlyMemory<byte>> segments)
        {
            Sends++;
            socket.Send(segments);
        }

        public int TryReceive(Span<byte> buffer, out bool truncated) => socket.TryReceive(buffer, out truncated);

        public bool WaitReadable(int timeoutMilliseconds, CancellationToken cancellationToken) => socket.WaitReadable(timeoutMilliseconds, cancellationToken);

        public ValueTask<bool> WaitReadableAsync(int timeoutMilliseconds, CancellationToken cancellationToken) =>
            socket.WaitReadableAsync(timeoutMilliseconds, cancellationToken);

        public void EnsureSendBuffer(int bytes) => socket.EnsureSendBuffer(bytes);

        public void EnsureReceiveBuffer(int bytes) => socket.EnsureReceiveBuffer(bytes);

        public void Dispose() => socket.Dispose();
    }

    /// <summary>A connection in <paramref name="ns"/> whose socket (configured as every connection's is) counts sends.</summary>
    private static (NftablesConnection Connection, CountingTransport Counter) Counted(TestNamespace ns)
    {
        var opened = NftablesChannel.Open(ns.Path); // EXT_ACK, CAP_ACK and buffer sizes set on its socket
        var counter = new CountingTransport(opened.Connection.Transport);
        return (new NftablesConnection(NftablesChannel.Over(counter)), counter);
    }

    /// <summary><see cref="Counted"/>, with table <see cref="T"/> and an address . port set "s" already committed.</summary>
    private static async Task<(NftablesConnection Connection, CountingTransport Counter, NftSet Set)> CountedWithSet(TestNamespace ns)
    {
        var (nft, counter) = Counted(ns);
        var set = Build.AddressPortSet(T, "s");
        await nft.CommitAsync(new Transaction().AddTable(Build.Table(T)).AddSet(set));
        return (nft, counter, set);
    }

    private static async Task<(uint Generation, int Sends)> Commit(NftablesConnection nft, CountingTransport counter, Transaction tx, uint? expected)
    {
        int before = counter.Sends;
        var result = await nft.CommitAsync(tx, expected is { } g ? new CommitOptions { ExpectedGeneration = g } : null);
        return (result.GenerationAfter, counter.Sends - before);
    }

    [Fact]
    public async Task AGenerationCheckedCommitIsOneSendmsgAndReportsTheGenerationItMade()
    {
        using var ns = TestNamespace.Create();
        var (nft, counter) = Counted(ns);
        using (nft)
        {
            uint generation = await nft.GetGenerationAsync();
            var (after, sends) = await Commit(nft, counter,
                new Transaction().AddTable(Build.Table(T)).AddChain(Build.BaseChain(T)).AddRule(Build.AcceptTo(T, "output", 1)), generation);
            Assert.Equal(1, sends);
            Assert.Equal(generation + 1, after); // the kernel's own echo says what the check implies
            Assert.Equal(after, await nft.GetGenerationAsync());

            // Unchecked, and with rule echoes (NLM_F_ECHO on the rules too): still one sendmsg, the kernel's generation.
            int before = counter.Sends;
            var echoed = await nft.CommitAsync(new Transaction().AddRule(Build.AcceptTo(T, "output", 2)), new CommitOptions { EchoHandles = true });
            Assert.Equal(1, counter.Sends - before);
            Assert.Single(echoed.RuleHandles);
            Assert.NotEqual(0UL, echoed.RuleHandles[0]);
            Assert.Equal(await nft.GetGenerationAsync(), echoed.GenerationAfter);
            Assert.Contains("ip daddr 10.0.0.2", ns.Nft($"list chain inet {T} output"));
        }
    }

    [Fact]
    public async Task ElementAndDeleteBatchesAskForNoEchoAndACheckedOneIsStillOneSendmsg()
    {
        // Echoing an element message would return one notification per element, so these batches ask for none:
        // checked against a generation, the one after it is that generation plus one.
        using var ns = TestNamespace.Create();
        var (nft, counter, set) = await CountedWithSet(ns);
        using (nft)
        {
            uint generation = await nft.GetGenerationAsync();
            var (after, sends) = await Commit(nft, counter, new Transaction().AddElements(set, [Build.AddressPort(1, 443)]), generation);
            Assert.Equal(1, sends);
            Assert.Equal(generation + 1, after);
            Assert.Equal(await nft.GetGenerationAsync(), after);
            Assert.Contains("10.0.0.1 . 443", ns.Nft($"list set inet {T} s"));

            (after, sends) = await Commit(nft, counter, new Transaction().DeleteTable(Build.Table(T)), after);
            Assert.Equal(1, sends);
            Assert.Equal(await nft.GetGenerationAsync(), after);
            Assert.DoesNotContain($"table inet {T}", ns.Nft("list tables"));
        }
    }

    [Fact]
    public async Task AnUncheckedChangeOfAFewElementsEchoesItsGenerationAndNeedsNoSecondRequest()
    {
        // An embedder's window or address without a generation check: the echo of a few elements is worth the
        // round trip it saves; a larger change asks for none and reads the generation with GETGEN.
        using var ns = TestNamespace.Create();
        var (nft, counter, set) = await CountedWithSet(ns);
        using (nft)
        {
            var (after, sends) = await Commit(nft, counter, new Transaction().AddElements(set, [Build.AddressPort(1, 443)]), expected: null);
            Assert.Equal(1, sends);
            Assert.Equal(await nft.GetGenerationAsync(), after);
            Assert.Contains("10.0.0.1 . 443", ns.Nft($"list set inet {T} s"));

            (after, sends) = await Commit(nft, counter, new Transaction().DeleteElements(set, [Build.AddressPort(1, 443)]), expected: null);
            Assert.Equal(1, sends);
            Assert.Equal(await nft.GetGenerationAsync(), after);
            Assert.DoesNotContain("10.0.0.1 . 443", ns.Nft($"list set inet {T} s"));

            var many = Enumerable.Range(1, TransactionEncoder.EchoedElementsAtMost + 1).Select(i => Build.AddressPort(i, 443)).ToList();
            (after, sends) = await Commit(nft, counter, new Transaction().AddElements(set, many), expected: null);
            Assert.Equal(2, sends); // the batch, then GETGEN
            Assert.Equal(await nft.GetGenerationAsync(), after);
        }
    }

    [Fact]
    public async Task ErrorsBeforeTheLastMessageAreAttributedAndItsAckIsNotReadAsSuccess()
    {
        using var ns = TestNamespace.Create();
        var (nft, counter) = Counted(ns);
        using (nft)
        {
            await nft.CommitAsync(new Transaction().AddTable(Build.Table(T)).AddChain(Build.BaseChain(T)));
            uint generation = await nft.GetGenerationAsync();
            // Operation 1 jumps to a chain that does not exist; operation 2, the last (the one that asks for the
            // ACK), is fine on its own: the kernel ACKs it, and the batch must still be refused for operation 1.
            var tx = new Transaction()
                .AddRule(Build.AcceptTo(T, "output", 1))
                .AddRule(Build.JumpTo(T, "output", "missing"), origin: "policy.yaml:3:5")
                .AddRule(Build.AcceptTo(T, "output", 3));
            int before = counter.Sends;
            var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => nft.CommitAsync(tx).AsTask());
            Assert.Equal(1, counter.Sends - before);
            var failure = Assert.Single(e.Failures);
            Assert.Equal(1, failure.OperationIndex);
            Assert.Equal("policy.yaml:3:5", failure.Origin);
            Assert.Equal((int)Errno.NOENT, failure.Error.Errno);
            Assert.False(e.FailuresIncomplete);
            Assert.Equal(generation, await nft.GetGenerationAsync()); // nothing applied
            Assert.DoesNotContain("10.0.0.1", ns.Nft($"list chain inet {T} output"));
        }
    }

    [Fact]
    public async Task AnErrorInTheLastMessageIsItsOwnAndEndsTheReplies()
    {
        using var ns = TestNamespace.Create();
        var (nft, counter) = Counted(ns);
        using (nft)
        {
            await nft.CommitAsync(new Transaction().AddTable(Build.Table(T)).AddChain(Build.BaseChain(T)));
            var tx = new Transaction()
                .AddRule(Build.JumpTo(T, "output", "missing_a"))
                .AddRule(Build.AcceptTo(T, "output", 2))
                .AddRule(Build.JumpTo(T, "output", "missing_b"));
            int before = counter.Sends;
            var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => nft.CommitAsync(tx).AsTask());
            Assert.Equal(1, counter.Sends - before);
            Assert.Equal([0, 2], e.Failures.Select(f => f.OperationIndex));
            Assert.All(e.Failures, f => Assert.Equal((int)Errno.NOENT, f.Error.Errno));
            // The extended ACK still names what the kernel refused.
            Assert.All(e.Failures, f => Assert.False(string.IsNullOrEmpty(f.Error.Message + f.Attribute), e.Message));
        }
    }

    [Fact]
    public async Task AStaleGenerationIsTheBatchsOneErrorWithNoSecondRequest()
    {
        using var ns = TestNamespace.Create();
        var (nft, counter) = Counted(ns);
        using (nft)
        {
            uint generation = await nft.GetGenerationAsync();
            ns.Nft("add table inet someone_else");
            int before = counter.Sends;
            var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => nft.CommitAsync(
                new Transaction().AddTable(Build.Table(T)).AddChain(Build.BaseChain(T)), new CommitOptions { ExpectedGeneration = generation }).AsTask());
            Assert.Equal(1, counter.Sends - before);
            Assert.True(e.IsGenerationConflict, e.Message);
            Assert.Equal([-1], e.Failures.Select(f => f.OperationIndex));
            Assert.DoesNotContain($"table inet {T}", ns.Nft("list tables"));

            // The socket is clean for the next commit, which ends on its own ACK again.
            var (after, sends) = await Commit(nft, counter, new Transaction().AddTable(Build.Table(T)), await nft.GetGenerationAsync());
            Assert.Equal(1, sends);
            Assert.Equal(await nft.GetGenerationAsync(), after);
        }
    }

    [Fact]
    public async Task ACommitThatChangesNothingKeepsTheGenerationAndSaysSo()
    {
        // Adding a table that exists (no NLM_F_EXCL) changes nothing: the kernel keeps the generation and echoes no
        // NEWGEN, so "expected + 1" would be wrong; the library reads it instead.
        using var ns = TestNamespace.Create();
        var (nft, counter) = Counted(ns);
        using (nft)
        {
            await nft.CommitAsync(new Transaction().AddTable(Build.Table(T)));
            uint generation = await nft.GetGenerationAsync();
            var (after, sends) = await Commit(nft, counter, new Transaction().AddTable(Build.Table(T)), generation);
            Assert.Equal(generation, after);
            Assert.Equal(2, sends); // the batch, then GETGEN
        }
    }
}
