using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Netlink;

/// <summary>
/// The reply handling above the socket, driven by a scripted kernel (no root): end markers, lost markers,
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

        public Kernel(uint? firstSequence = null, Action<Kernel>? onMarker = null, Action<Kernel>? onBatch = null)
        {
            Channel = NftablesChannel.Over(Transport, firstSequence);
            Connection = new NftablesConnection(Channel);
            Transport.OnSend = messages =>
            {
                if (messages[0].Type == BatchBegin)
                {
                    Batch = messages;
                    onBatch?.Invoke(this);
                }
                else if (messages[0].Is(NftMessageType.GETGEN))
                {
                    Markers.Add(messages[0].Sequence);
                    (onMarker ?? (k => k.AnswerMarker(7)))(this);
                }
            };
        }

        /// <summary>Sequence number of batch message <paramref name="index"/> (0 = BEGIN).</summary>
        public uint Message(int index) => Batch[index].Sequence;

        public uint LastMarker => Markers[^1];

        public void AnswerMarker(uint generation) => Transport.QueueEach(KernelReply.NewGeneration(LastMarker, generation));

        public Task<CommitResult> CommitAsync(bool synchronous) => synchronous
            ? Task.FromResult(Connection.Commit(ThreeOperations()))
            : Connection.CommitAsync(ThreeOperations()).AsTask();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ABatchWithNoErrorBeforeTheMarkerSucceedsWithTheMarkersGeneration(bool synchronous)
    {
        var kernel = new Kernel();
        var result = await kernel.CommitAsync(synchronous);
        Assert.Equal(7u, result.GenerationAfter);
        Assert.Equal(5, kernel.Batch.Count);
        Assert.Single(kernel.Markers);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ErrorsOutOfOrderAndDuplicatedAreEachReportedOnceInMessageOrder(bool synchronous)
    {
        var kernel = new Kernel(onMarker: k => k.Transport.QueueEach(
            KernelReply.Error(k.Message(3), (int)Errno.NOENT),
            KernelReply.Error(k.Message(2), (int)Errno.EXIST),
            KernelReply.Error(k.Message(3), (int)Errno.NOENT),
            KernelReply.NewGeneration(k.LastMarker, 7)));
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => kernel.CommitAsync(synchronous));
        Assert.Equal([1, 2], e.Failures.Select(f => f.OperationIndex));
        Assert.Equal([(int)Errno.EXIST, (int)Errno.NOENT], e.Failures.Select(f => f.Error.Errno));
        Assert.False(e.FailuresIncomplete);
    }

    [Fact]
    public async Task RepliesToEarlierRequestsArrivingAmongOursAreIgnored()
    {
        // An error for a request before the batch and the NEWGEN of an older marker must change nothing.
        var kernel = new Kernel(onMarker: k => k.Transport.QueueEach(
            KernelReply.Error(k.Message(0) - 3, (int)Errno.NOENT),
            KernelReply.NewGeneration(k.Message(0) - 1, 1),
            KernelReply.Error(k.LastMarker + 5, (int)Errno.PERM),
            KernelReply.NewGeneration(k.LastMarker, 7)));
        var result = await kernel.CommitAsync(synchronous: false);
        Assert.Equal(7u, result.GenerationAfter);
    }

    [Fact]
    public async Task RepliesQueuedBeforeACallAreDrainedAndNeverReadAsItsOwn()
    {
        var kernel = new Kernel();
        // Left over from an abandoned call, numbered like the next batch's first operation and its marker (which
        // a long-lived socket whose counter went round could see): gone before the batch is sent.
        uint begin = kernel.Channel.Connection.NextSequence;
        kernel.Transport.QueueEach(KernelReply.Error(begin + 1, (int)Errno.NOENT), KernelReply.NewGeneration(begin + 5, 1));
        kernel.Transport.QueueOverflow();
        var result = await kernel.CommitAsync(synchronous: false);
        Assert.Equal(7u, result.GenerationAfter);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ALostMarkerIsSentAgain(bool synchronous)
    {
        var kernel = new Kernel(onMarker: k =>
        {
            if (k.Markers.Count == 2)
                k.AnswerMarker(7); // the first one got no answer
        });
        var result = await kernel.CommitAsync(synchronous);
        Assert.Equal(7u, result.GenerationAfter);
        Assert.Equal(2, kernel.Markers.Count);
        Assert.Equal(1, kernel.Transport.TimedOutWaits);
    }

    [Fact]
    public async Task TheAnswerToAnEarlierMarkerOfTheSameBatchEndsTheWait()
    {
        var kernel = new Kernel(onMarker: k =>
        {
            if (k.Markers.Count == 2)
                k.Transport.QueueEach(KernelReply.NewGeneration(k.Markers[0], 7)); // late, but after the batch's replies
        });
        var result = await kernel.CommitAsync(synchronous: false);
        Assert.Equal(7u, result.GenerationAfter);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnOverflowMidBatchReportsTheErrorsThatArrivedAsIncomplete(bool synchronous)
    {
        var kernel = new Kernel(onMarker: k =>
        {
            if (k.Markers.Count == 1)
            {
                k.Transport.QueueEach(KernelReply.Error(k.Message(2), (int)Errno.NOENT));
                k.Transport.QueueOverflow(); // the rest, the marker's NEWGEN included, was dropped
            }
            else
                k.AnswerMarker(7);
        });
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => kernel.CommitAsync(synchronous));
        Assert.True(e.FailuresIncomplete);
        Assert.Equal([1], e.Failures.Select(f => f.OperationIndex));
        Assert.Equal(2, kernel.Markers.Count);
    }

    [Fact]
    public async Task AnOverflowThatLostEveryErrorIsStillARefusal()
    {
        var kernel = new Kernel(onMarker: k =>
        {
            if (k.Markers.Count == 1)
                k.Transport.QueueOverflow();
            else
                k.AnswerMarker(7);
        });
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => kernel.CommitAsync(synchronous: false));
        Assert.True(e.FailuresIncomplete);
        Assert.Empty(e.Failures);
    }

    [Fact]
    public async Task EpermForTheMarkerIsTheBatchsAnswer()
    {
        var kernel = new Kernel(onMarker: k => k.Transport.QueueEach(
            KernelReply.Error(k.Message(0), (int)Errno.PERM), KernelReply.Error(k.LastMarker, (int)Errno.PERM)));
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => kernel.CommitAsync(synchronous: false));
        Assert.True(e.IsPermissionDenied);
    }

    [Fact]
    public async Task ARefusedMarkerAloneIsAKernelErrorNotASuccess()
    {
        var kernel = new Kernel(onMarker: k => k.Transport.QueueEach(KernelReply.Error(k.LastMarker, (int)Errno.INVAL)));
        var e = await Assert.ThrowsAsync<NetlinkKernelException>(() => kernel.CommitAsync(synchronous: false));
        Assert.Equal((int)Errno.INVAL, e.Error.Errno);
    }

    [Theory]
    [InlineData(uint.MaxValue - 1)] // BEGIN 2^32-2, table 2^32-1, chain 0, rule 1, END 2
    [InlineData(uint.MaxValue - 3)] // END is 0
    [InlineData(uint.MaxValue)] // BEGIN is the last number before the wrap
    public async Task ErrorsAreMatchedAcrossTheSequenceWrap(uint firstSequence)
    {
        var kernel = new Kernel(firstSequence, onMarker: k => k.Transport.QueueEach(
            KernelReply.Error(k.Message(3), (int)Errno.NOENT), KernelReply.NewGeneration(k.LastMarker, 7)));
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => kernel.CommitAsync(synchronous: false));
        Assert.Equal(firstSequence, kernel.Message(0));
        Assert.Equal([2], e.Failures.Select(f => f.OperationIndex));
        // The range was reserved once: the marker got the number right after END.
        Assert.Equal(kernel.Message(4) + 1, kernel.Markers[0]);
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
            if (messages[0].Is(NftMessageType.GETGEN))
                transport.QueueEach(
                    KernelReply.Object(NftMessageType.NEWRULE, first + 3, 42, default),
                    KernelReply.Object(NftMessageType.NEWRULE, first - 1, 41, default), // not ours
                    KernelReply.NewGeneration(messages[0].Sequence, 7));
        };
        var echoed = new List<uint>();
        var outcome = await channel.SendBatchAsync(batch, first, last - first + 1,
            (in NetlinkMessage m) => echoed.Add(KernelReply.ObjectId(m)), synchronous: false, CancellationToken.None);
        Assert.Equal([42u], echoed);
        Assert.Equal(7u, outcome.EndMarkerValue);
        Assert.Empty(outcome.Errors);
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
