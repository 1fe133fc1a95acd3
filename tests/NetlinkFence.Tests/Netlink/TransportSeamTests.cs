using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Netlink;

/// <summary>
/// The reply handling above the socket, driven by a scripted kernel (no root): the batch's final ACK and echoed
/// generation, batch-level refusals, end markers when the ACK is lost,
/// ENOBUFS, stale, duplicated, reordered and truncated replies, dump restarts and dump status. What the real
/// kernel does in each case is covered by the kernel tests; these pin down what the library makes of it.
/// </summary>
public sealed class TransportSeamTests
{
    private const ushort BatchBegin = (ushort)NfnetlinkBatchMessage.BATCH_BEGIN;

    /// <summary>table t (operation 0), chain t output (1), one rule (2): BEGIN, 3 messages, END.</summary>
    private static Transaction ThreeOperations() => new Transaction()
        .AddTable(Build.Table("t")).AddChain(Build.BaseChain("t")).AddRule(Build.AcceptTo("t", "output", 1));

    private sealed class Kernel
    {
        public readonly ScriptedTransport Transport = new();
        public IReadOnlyList<SentMessage> Batch = [];
        public readonly List<uint> Markers = [];
        public readonly NftablesChannel Channel;
        public readonly NftablesConnection Connection;

        /// <param name="onBatch">The kernel's replies to the batch; by default the commit applied: the NEWGEN echoed
        /// for the first message (generation 7), then the ACK of the last message.</param>
        /// <param name="onMarker">The replies to a GETGEN end marker; by default its NEWGEN (generation 9).</param>
        public Kernel(uint? firstSequence = null, Action<Kernel>? onBatch = null, Action<Kernel>? onMarker = null)
        {
            Channel = NftablesChannel.Over(Transport, firstSequence);
            Connection = new NftablesConnection(Channel);
            Transport.OnSend = messages =>
            {
                if (messages[0].Type == BatchBegin)
                {
                    Batch = messages;
                    (onBatch ?? (k => k.Applied(7)))(this);
                }
                else if (messages[0].Is(NftMessageType.GETGEN))
                {
                    Markers.Add(messages[0].Sequence);
                    (onMarker ?? (k => k.AnswerMarker(9)))(this);
                }
            };
        }

        /// <summary>Sequence number of batch message <paramref name="index"/> (0 = BEGIN).</summary>
        public uint Message(int index) => Batch[index].Sequence;

        /// <summary>The message that asked for the ACK: the last one before BATCH_END.</summary>
        public uint Last => Batch[^2].Sequence;

        public uint LastMarker => Markers[^1];

        public byte[] Echo(uint generation) => KernelReply.NewGeneration(Message(1), generation);

        public byte[] Ack => KernelReply.Error(Last, 0);

        public void Applied(uint generation) => Transport.QueueEach(Echo(generation), Ack);

        public void AnswerMarker(uint generation) => Transport.QueueEach(KernelReply.NewGeneration(LastMarker, generation));

        public Task<CommitResult> CommitAsync(bool synchronous, Transaction? transaction = null) => synchronous
            ? Task.FromResult(Connection.Commit(transaction ?? ThreeOperations()))
            : Connection.CommitAsync(transaction ?? ThreeOperations()).AsTask();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ABatchEndsOnItsLastMessagesAckInOneSendmsgWithTheEchoedGeneration(bool synchronous)
    {
        var kernel = new Kernel();
        var result = await kernel.CommitAsync(synchronous);
        Assert.Equal(7u, result.GenerationAfter);
        Assert.Equal(5, kernel.Batch.Count);
        Assert.Single(kernel.Transport.Sent); // the batch, and no second request
        Assert.Empty(kernel.Markers);
        // The first message (it adds a table) asks for the echo that carries the NEWGEN, the last message (not
        // BATCH_END, whose ACK needs 6.10 and comes only on success) for the ACK.
        Assert.Equal([0, NetlinkMessageFlags.ECHO, 0, NetlinkMessageFlags.ACK, 0],
            kernel.Batch.Select(m => m.Flags & (NetlinkMessageFlags.ECHO | NetlinkMessageFlags.ACK)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ErrorsOutOfOrderAndDuplicatedAreEachReportedOnceInMessageOrderAndTheAckIsNoError(bool synchronous)
    {
        var kernel = new Kernel(onBatch: k => k.Transport.QueueEach(
            KernelReply.Error(k.Message(2), (int)Errno.NOENT),
            KernelReply.Error(k.Message(1), (int)Errno.EXIST),
            KernelReply.Error(k.Message(2), (int)Errno.NOENT),
            k.Ack));
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => kernel.CommitAsync(synchronous));
        Assert.Equal([0, 1], e.Failures.Select(f => f.OperationIndex));
        Assert.Equal([(int)Errno.EXIST, (int)Errno.NOENT], e.Failures.Select(f => f.Error.Errno));
        Assert.False(e.FailuresIncomplete);
        Assert.Single(kernel.Transport.Sent);
    }

    [Fact]
    public async Task AnErrorForTheLastMessageEndsTheRepliesAndIsItsOwn()
    {
        var kernel = new Kernel(onBatch: k => k.Transport.QueueEach(
            KernelReply.Error(k.Message(1), (int)Errno.EXIST), KernelReply.Error(k.Last, (int)Errno.NOENT)));
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => kernel.CommitAsync(synchronous: false));
        Assert.Equal([0, 2], e.Failures.Select(f => f.OperationIndex));
        Assert.Single(kernel.Transport.Sent);
    }

    [Fact]
    public async Task RepliesToEarlierRequestsArrivingAmongOursAreIgnored()
    {
        // An error for a request before the batch, the NEWGEN of an older request and an ACK numbered after the
        // batch must change nothing.
        var kernel = new Kernel(onBatch: k => k.Transport.QueueEach(
            KernelReply.Error(k.Message(0) - 3, (int)Errno.NOENT),
            KernelReply.NewGeneration(k.Message(0) - 1, 1),
            KernelReply.Error(k.Message(4) + 5, (int)Errno.PERM),
            k.Echo(7),
            KernelReply.Error(k.Message(4) + 1, 0),
            k.Ack));
        var result = await kernel.CommitAsync(synchronous: false);
        Assert.Equal(7u, result.GenerationAfter);
    }

    [Fact]
    public async Task RepliesQueuedBeforeACallAreDrainedAndNeverReadAsItsOwn()
    {
        var kernel = new Kernel();
        // Left over from an abandoned call, numbered like the next batch's first operation, its BEGIN and its last
        // message (which a long-lived socket whose counter went round could see): gone before the batch is sent.
        uint begin = kernel.Channel.Connection.NextSequence;
        kernel.Transport.QueueEach(KernelReply.Error(begin + 1, (int)Errno.NOENT), KernelReply.NewGeneration(begin + 1, 1), KernelReply.Error(begin + 3, 0));
        kernel.Transport.QueueOverflow();
        var result = await kernel.CommitAsync(synchronous: false);
        Assert.Equal(7u, result.GenerationAfter);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AfterACallThatReadItsLastReplyTheNextSendsWithoutLookingForStaleOnes(bool synchronous)
    {
        var kernel = new Kernel();
        await kernel.CommitAsync(synchronous);
        int before = kernel.Transport.Receives;
        var result = await kernel.CommitAsync(synchronous);
        Assert.Equal(7u, result.GenerationAfter);
        Assert.Equal(2, kernel.Transport.Receives - before); // the echo and the ACK: no empty recvmsg before the send
        before = kernel.Transport.Receives;
        await kernel.Connection.GetGenerationAsync(); // a request answered by its reply (no ACK asked)
        Assert.Equal(1, kernel.Transport.Receives - before);
    }

    [Fact]
    public async Task RepliesAnAbandonedCallLeftAreDrainedBeforeTheNextSend()
    {
        bool failing = true;
        int queuedAtSend = -1;
        var kernel = new Kernel(onBatch: k =>
        {
            queuedAtSend = k.Transport.QueuedCount;
            if (failing)
                k.Transport.Queue(truncated: true, k.Echo(7)); // the call fails on it and leaves the ACK queued
            k.Transport.QueueEach(k.Echo(7), k.Ack);
        });
        await Assert.ThrowsAsync<NetlinkDecodeException>(() => kernel.CommitAsync(synchronous: false));
        Assert.True(kernel.Transport.QueuedCount > 0);
        failing = false;
        var result = await kernel.CommitAsync(synchronous: false);
        Assert.Equal(7u, result.GenerationAfter);
        Assert.Equal(0, queuedAtSend); // what the failed call left was gone before the batch went out
        Assert.Equal(0, kernel.Transport.QueuedCount);
    }

    [Fact]
    public async Task AMarkerSentAgainLeavesALateAnswerThatIsDrainedBeforeTheNextSend()
    {
        bool first = true;
        int queuedAtSend = -1;
        var kernel = new Kernel(onBatch: k =>
        {
            queuedAtSend = k.Transport.QueuedCount;
            if (first)
                k.Transport.QueueEach(k.Echo(7)); // the ACK never comes: a marker has to end the replies
            else
                k.Applied(8);
        }, onMarker: k =>
        {
            if (k.Markers.Count == 2) // the first marker's answer is late, the second's comes after it
                k.Transport.QueueEach(KernelReply.NewGeneration(k.Markers[0], 9), KernelReply.NewGeneration(k.Markers[1], 9));
        });
        Assert.Equal(7u, (await kernel.CommitAsync(synchronous: false)).GenerationAfter);
        Assert.Equal(1, kernel.Transport.QueuedCount); // the second marker's answer
        first = false;
        Assert.Equal(8u, (await kernel.CommitAsync(synchronous: false)).GenerationAfter);
        Assert.Equal(0, queuedAtSend);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ABatchRefusedAsAWholeEndsWithWhatIsQueuedWithoutAMarker(bool synchronous)
    {
        // A stale generation: one ERESTART for BEGIN and nothing else (nfnetlink_rcv_batch returns before the batch).
        var kernel = new Kernel(onBatch: k => k.Transport.QueueEach(KernelReply.Error(k.Message(0), (int)Errno.RESTART)));
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => kernel.CommitAsync(synchronous));
        Assert.True(e.IsGenerationConflict);
        Assert.Equal([-1], e.Failures.Select(f => f.OperationIndex));
        Assert.Single(kernel.Transport.Sent);
        Assert.Equal(1, kernel.Transport.TimedOutWaits); // one look at an empty socket, no waiting
    }

    [Fact]
    public async Task ACommitTimeErrorComesBeforeTheAckAndTheAckIsNoSuccess()
    {
        // The commit itself failed: its error comes first (the kernel names the first message after BEGIN), then
        // the collected ACK of the last message.
        var kernel = new Kernel(onBatch: k => k.Transport.QueueEach(KernelReply.Error(k.Message(1), (int)Errno.LOOP), k.Ack));
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => kernel.CommitAsync(synchronous: false));
        Assert.Equal([(int)Errno.LOOP], e.Failures.Select(f => f.Error.Errno));
        Assert.Equal([0], e.Failures.Select(f => f.OperationIndex));
        Assert.Single(kernel.Transport.Sent);
    }

    [Fact]
    public async Task EpermForTheBatchIsItsAnswer()
    {
        var kernel = new Kernel(onBatch: k => k.Transport.QueueEach(KernelReply.Error(k.Message(0), (int)Errno.PERM)));
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => kernel.CommitAsync(synchronous: false));
        Assert.True(e.IsPermissionDenied);
        Assert.Single(kernel.Transport.Sent);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ALostAckIsMadeUpForByAMarkerAndTheEchoedGenerationCounts(bool synchronous)
    {
        var kernel = new Kernel(onBatch: k => k.Transport.QueueEach(k.Echo(7))); // the ACK never comes
        var result = await kernel.CommitAsync(synchronous);
        Assert.Equal(7u, result.GenerationAfter);
        Assert.Single(kernel.Markers);
        Assert.Equal(1, kernel.Transport.TimedOutWaits);
    }

    [Fact]
    public async Task NoReplyAtAllIsNeverASuccess()
    {
        // Neither the echo nor the ACK (a kernel that dropped the batch without a word): the marker answers, and the
        // outcome is a refusal whose replies were lost, not a commit.
        var kernel = new Kernel(onBatch: _ => { });
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => kernel.CommitAsync(synchronous: false));
        Assert.True(e.FailuresIncomplete);
        Assert.Single(kernel.Markers);
    }

    [Fact]
    public async Task ALostMarkerIsSentAgainAndAnEarlierMarkersAnswerEndsTheWait()
    {
        var kernel = new Kernel(onBatch: k => k.Transport.QueueEach(k.Echo(7)), onMarker: k =>
        {
            if (k.Markers.Count == 2)
                k.Transport.QueueEach(KernelReply.NewGeneration(k.Markers[0], 9)); // late, but after the batch's replies
        });
        var result = await kernel.CommitAsync(synchronous: false);
        Assert.Equal(7u, result.GenerationAfter);
        Assert.Equal(2, kernel.Markers.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnOverflowMidBatchReportsTheErrorsThatArrivedAsIncomplete(bool synchronous)
    {
        var kernel = new Kernel(onBatch: k =>
        {
            k.Transport.QueueEach(KernelReply.Error(k.Message(2), (int)Errno.NOENT));
            k.Transport.QueueOverflow(); // the rest, the ACK included, was dropped
        });
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => kernel.CommitAsync(synchronous));
        Assert.True(e.FailuresIncomplete);
        Assert.Equal([1], e.Failures.Select(f => f.OperationIndex));
        Assert.Single(kernel.Markers);
    }

    [Fact]
    public async Task AnOverflowThatLostEveryErrorIsStillARefusal()
    {
        var kernel = new Kernel(onBatch: k => k.Transport.QueueOverflow());
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => kernel.CommitAsync(synchronous: false));
        Assert.True(e.FailuresIncomplete);
        Assert.Empty(e.Failures);
    }

    [Fact]
    public async Task AnOverflowAfterTheCommitsEchoIsASuccess()
    {
        // Only a commit that applied echoes its NEWGEN, so lost replies after it cannot have been errors.
        var kernel = new Kernel(onBatch: k =>
        {
            k.Transport.QueueEach(k.Echo(7));
            k.Transport.QueueOverflow();
        });
        var result = await kernel.CommitAsync(synchronous: false);
        Assert.Equal(7u, result.GenerationAfter);
    }

    [Fact]
    public async Task ACommitWithoutAnEchoedGenerationReadsItWithGetgen()
    {
        // A batch that changed nothing: the kernel keeps the generation and echoes no NEWGEN, only the ACK.
        var kernel = new Kernel(onBatch: k => k.Transport.QueueEach(k.Ack));
        var result = await kernel.CommitAsync(synchronous: false);
        Assert.Equal(9u, result.GenerationAfter);
        Assert.Equal(2, kernel.Transport.Sent.Count);
    }

    [Fact]
    public async Task AnEmptyBatchAsksNoAckAndEndsWithAMarker()
    {
        var kernel = new Kernel(onBatch: _ => { });
        var result = await kernel.CommitAsync(synchronous: false, new Transaction());
        Assert.Equal(2, kernel.Batch.Count);
        Assert.All(kernel.Batch, m => Assert.Equal((NetlinkMessageFlags)0, m.Flags & NetlinkMessageFlags.ACK));
        Assert.Equal(9u, result.GenerationAfter);
    }

    [Fact]
    public async Task ARefusedMarkerAloneIsAKernelErrorNotASuccess()
    {
        var kernel = new Kernel(onBatch: _ => { }, onMarker: k => k.Transport.QueueEach(KernelReply.Error(k.LastMarker, (int)Errno.INVAL)));
        var e = await Assert.ThrowsAsync<NetlinkKernelException>(() => kernel.CommitAsync(synchronous: false, new Transaction()));
        Assert.Equal((int)Errno.INVAL, e.Error.Errno);
    }

    [Theory]
    [InlineData(uint.MaxValue - 1)] // BEGIN 2^32-2, table 2^32-1, chain 0, rule 1, END 2
    [InlineData(uint.MaxValue - 3)] // END is 0
    [InlineData(uint.MaxValue)] // BEGIN is the last number before the wrap
    public async Task ErrorsAreMatchedAcrossTheSequenceWrap(uint firstSequence)
    {
        var kernel = new Kernel(firstSequence, onBatch: k => k.Transport.QueueEach(KernelReply.Error(k.Message(2), (int)Errno.NOENT), k.Ack));
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => kernel.CommitAsync(synchronous: false));
        Assert.Equal(firstSequence, kernel.Message(0));
        Assert.Equal([1], e.Failures.Select(f => f.OperationIndex));
        // The range was reserved once: the next number is the one right after END.
        Assert.Equal(kernel.Message(4) + 1, kernel.Channel.Connection.NextSequence);
    }

    [Fact]
    public async Task EchoRepliesInsideTheBatchGoToTheCallback()
    {
        var transport = new ScriptedTransport();
        using var channel = NftablesChannel.Over(transport);
        var batch = new BatchBuffer();
        int[] map = new int[8];
        uint first = channel.Connection.NextSequence;
        uint last = TransactionEncoder.Encode(ThreeOperations(), batch, first, null, ref map);
        channel.Connection.ReserveSequences(last - first + 1);
        transport.OnSend = messages =>
        {
            if (messages[0].Type == BatchBegin)
                transport.QueueEach(
                    KernelReply.Object(NftMessageType.NEWRULE, first + 3, 42, default),
                    KernelReply.Object(NftMessageType.NEWRULE, first - 1, 41, default), // not ours
                    KernelReply.NewGeneration(first + 1, 7),
                    KernelReply.Error(first + 3, 0));
        };
        var echoed = new List<uint>();
        var outcome = await channel.SendBatchAsync(batch, first, last - first + 1,
            (in NetlinkMessage m) => echoed.Add(KernelReply.ObjectId(m)), synchronous: false, CancellationToken.None);
        Assert.Equal([42u], echoed);
        Assert.Equal(7u, outcome.CommittedGeneration);
        Assert.Empty(outcome.Errors);
        Assert.Single(transport.Sent);
        batch.Dispose();
    }

    private static (NftablesChannel Channel, ScriptedTransport Transport) Dumping(Action<ScriptedTransport, uint, int> answer)
    {
        var transport = new ScriptedTransport();
        int dumps = 0;
        transport.OnSend = messages =>
        {
            if ((messages[0].Flags & NetlinkMessageFlags.DUMP) == NetlinkMessageFlags.DUMP)
                answer(transport, messages[0].Sequence, dumps++);
        };
        return (NftablesChannel.Over(transport), transport);
    }

    private static async Task<List<uint>> DumpIds(NftablesChannel channel, bool synchronous, Action? onRestart = null)
    {
        var ids = new List<uint>();
        var dump = channel.DumpAsync(NftMessageType.GETRULE, NetfilterFamily.INET, null,
            (in NetlinkMessage m) => ids.Add(KernelReply.ObjectId(m)), () => { ids.Clear(); onRestart?.Invoke(); }, synchronous, CancellationToken.None);
        if (synchronous)
            Assert.True(dump.IsCompleted);
        await dump;
        return ids;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnInterruptedDumpIsRestartedAndOnlyTheCleanRunCounts(bool synchronous)
    {
        var (channel, transport) = Dumping((t, seq, attempt) =>
        {
            if (attempt == 0)
                t.Queue(false, KernelReply.Object(NftMessageType.NEWRULE, seq, 1),
                    KernelReply.Object(NftMessageType.NEWRULE, seq, 2, NetlinkMessageFlags.MULTI | NetlinkMessageFlags.DUMP_INTR),
                    KernelReply.Done(seq, 0, NetlinkMessageFlags.MULTI | NetlinkMessageFlags.DUMP_INTR));
            else
                t.Queue(false, KernelReply.Object(NftMessageType.NEWRULE, seq, 3), KernelReply.Object(NftMessageType.NEWRULE, seq, 4), KernelReply.Done(seq));
        });
        using (channel)
        {
            int restarts = 0;
            Assert.Equal([3u, 4u], await DumpIds(channel, synchronous, () => restarts++));
            Assert.Equal(1, restarts);
            Assert.Equal(2, transport.Sent.Count);
        }
    }

    [Fact]
    public async Task DoneWithEintrRestartsTheDump()
    {
        var (channel, _) = Dumping((t, seq, attempt) => t.Queue(false, attempt == 0
            ? [KernelReply.Object(NftMessageType.NEWRULE, seq, 1), KernelReply.Done(seq, -(int)Errno.INTR)]
            : [KernelReply.Object(NftMessageType.NEWRULE, seq, 2), KernelReply.Done(seq)]));
        using (channel)
            Assert.Equal([2u], await DumpIds(channel, synchronous: false));
    }

    [Fact]
    public async Task DoneWithAnErrorStatusFailsTheDump()
    {
        var (channel, _) = Dumping((t, seq, _) => t.Queue(false, KernelReply.Object(NftMessageType.NEWRULE, seq, 1), KernelReply.Done(seq, -(int)Errno.NOENT)));
        using (channel)
        {
            var e = await Assert.ThrowsAsync<NetlinkKernelException>(() => DumpIds(channel, synchronous: false));
            Assert.Equal((int)Errno.NOENT, e.Error.Errno);
        }
    }

    [Fact]
    public async Task ADumpIgnoresRepliesOfOtherRequestsAndSpansDatagrams()
    {
        var (channel, _) = Dumping((t, seq, _) =>
        {
            t.Queue(false, KernelReply.Object(NftMessageType.NEWRULE, seq - 1, 100), KernelReply.Object(NftMessageType.NEWRULE, seq, 1));
            t.Queue(false, KernelReply.Done(seq - 1), KernelReply.Object(NftMessageType.NEWRULE, seq, 2));
            t.Queue(false, KernelReply.Done(seq));
        });
        using (channel)
            Assert.Equal([1u, 2u], await DumpIds(channel, synchronous: false));
    }

    [Fact]
    public async Task ATruncatedReplyIsAnErrorAndTheNextCallIsUndisturbed()
    {
        var (channel, transport) = Dumping((t, seq, attempt) =>
        {
            if (attempt == 0)
            {
                t.Queue(truncated: true, KernelReply.Object(NftMessageType.NEWRULE, seq, 1));
                t.Queue(false, KernelReply.Done(seq)); // left queued when the dump fails
            }
            else
                t.Queue(false, KernelReply.Object(NftMessageType.NEWRULE, seq, 2), KernelReply.Done(seq));
        });
        using (channel)
        {
            await Assert.ThrowsAsync<NetlinkDecodeException>(() => DumpIds(channel, synchronous: false));
            Assert.Equal([2u], await DumpIds(channel, synchronous: false));
        }
    }

    [Fact]
    public async Task ListingsWaitAsynchronouslyAndEndWithCancellation()
    {
        // The kernel never answers the listing's first GETGEN: the async listings must wait on readiness (a pending
        // task, no blocked thread) and end at once when cancelled; a blocking wait would hit the script's guard.
        var kernel = new Kernel(onMarker: _ => { });
        using var cancel = new CancellationTokenSource();
        var listings = new Task[]
        {
            kernel.Connection.ListTableAsync(NftFamily.Inet, "t", cancel.Token).AsTask(),
            kernel.Connection.ListChainsAsync(NftFamily.Inet, "t", cancel.Token).AsTask(),
            kernel.Connection.ListElementsAsync(NftSet.Reference(NftFamily.Inet, "t", "s"), cancel.Token).AsTask(),
        };
        Assert.False(listings[0].IsCompleted);
        cancel.Cancel();
        foreach (var listing in listings)
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listing);
    }

    [Fact]
    public async Task AnAsyncWaitEndsWithCancellation()
    {
        var transport = new ScriptedTransport(); // never answers
        using var channel = NftablesChannel.Over(transport);
        using var cancel = new CancellationTokenSource();
        var reading = channel.GetGenerationAsync(synchronous: false, cancel.Token).AsTask();
        Assert.False(reading.IsCompleted);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
    }

    [Fact]
    public void SequenceRangesCompareAcrossTheWrap()
    {
        Assert.True(NetlinkConnection.InRange(0, uint.MaxValue, 2));
        Assert.True(NetlinkConnection.InRange(uint.MaxValue, uint.MaxValue, 2));
        Assert.False(NetlinkConnection.InRange(1, uint.MaxValue, 2));
        Assert.False(NetlinkConnection.InRange(uint.MaxValue - 1, uint.MaxValue, 2));
        Assert.False(NetlinkConnection.InRange(5, 5, 0));
    }
}
