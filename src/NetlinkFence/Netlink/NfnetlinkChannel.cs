using System.Buffers;
using System.Buffers.Binary;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>Handles one message of a dump; the message is only valid during the call.</summary>
internal delegate void DumpMessageHandler(in NetlinkMessage message);

/// <summary>
/// A <c>NETLINK_NETFILTER</c> socket speaking to nf_tables: batches, generation ids and dumps.
/// Not thread-safe; the public connection serialises callers.
/// </summary>
internal sealed partial class NfnetlinkChannel : IDisposable
{
    private const int ReceiveBufferSize = 256 * 1024;
    private const int MinimumSocketBuffer = 4 << 20; // what nft asks for as well
    private const int MaxDumpRestarts = 16;
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    private readonly NetlinkSocket _socket;
    private readonly byte[] _receive = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
    private uint _nextSequence;

    private NfnetlinkChannel(NetlinkSocket socket)
    {
        _socket = socket;
        // Seed the sequence space away from zero so replies to another socket's requests never look like ours.
        _nextSequence = (uint)Environment.TickCount | 1;
    }

    public static NfnetlinkChannel Open(string? networkNamespacePath, NetworkNamespaceHandle? networkNamespace = null)
    {
        var socket = networkNamespace is not null
            ? NetlinkSocket.Open(NetlinkProtocol.NETFILTER, networkNamespace)
            : NetlinkSocket.Open(NetlinkProtocol.NETFILTER, networkNamespacePath);
        try
        {
            // Extended ACKs give the kernel's error text and the offending attribute's offset; capped
            // ACKs keep error replies small (header only) so thousands of them fit the receive queue.
            socket.TrySetNetlinkOption(NetlinkSocketOption.EXT_ACK, 1);
            socket.TrySetNetlinkOption(NetlinkSocketOption.CAP_ACK, 1);
            socket.EnsureReceiveBuffer(MinimumSocketBuffer);
            return new NfnetlinkChannel(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public NetlinkSocket Socket => _socket;

    /// <summary>Reserves <paramref name="count"/> consecutive sequence numbers and returns the first.</summary>
    public uint ReserveSequences(int count)
    {
        uint first = _nextSequence;
        _nextSequence += (uint)count;
        if (_nextSequence < first || _nextSequence == 0)
        {
            first = 1;
            _nextSequence = (uint)count + 1;
        }
        return first;
    }

    public static ushort MessageType(NftMessageType type) =>
        (ushort)(((int)NfnetlinkSubsystem.NFTABLES << 8) | (int)type);

    /// <summary>Reads the ruleset generation id (NFT_MSG_GETGEN).</summary>
    public uint GetGeneration(CancellationToken cancellationToken)
    {
        DiscardStaleReplies();
        uint sequence = SendGetGeneration();
        var deadline = DateTime.UtcNow + ReplyTimeout;
        while (true)
        {
            int length = ReceiveWaiting(deadline, cancellationToken);
            var reader = new NetlinkMessageReader(_receive.AsSpan(0, length));
            while (reader.TryRead(out var message))
            {
                if (message.Sequence != sequence)
                    continue;
                if (message.Type == (ushort)NetlinkMessageType.ERROR)
                {
                    var error = NetlinkErrorReply.Decode(message, out _);
                    if (error is not null)
                        throw new NetlinkKernelException("reading the ruleset generation (NFT_MSG_GETGEN)", error);
                    continue;
                }
                if (TryReadGeneration(message, out uint generation))
                    return generation;
            }
        }
    }

    /// <summary>
    /// Returns once any commit another socket is running has finished. The generation id moves at the start of
    /// a commit, before its objects are activated and before a new base chain gets its drop policy, so a dump
    /// that starts mid-commit sees half of it under the new generation id. An empty batch (BEGIN, END, no
    /// ACK requested, so no reply) takes the kernel's commit mutex and therefore waits for that commit.
    /// </summary>
    public void WaitForCommitInProgress()
    {
        DiscardStaleReplies();
        uint first = ReserveSequences(2);
        Span<byte> request = stackalloc byte[2 * (NetlinkAlignment.MessageHeaderSize + NetlinkAlignment.NfgenHeaderSize)];
        var writer = new NetlinkWriter(request);
        WriteBatchMarker(ref writer, NfnetlinkBatchMessage.BATCH_BEGIN, first, null);
        WriteBatchMarker(ref writer, NfnetlinkBatchMessage.BATCH_END, first + 1, null);
        _socket.Send(writer.Written);
    }

    /// <summary>
    /// Writes NFNL_MSG_BATCH_BEGIN or _END for the nf_tables subsystem; with <paramref name="generation"/> the
    /// kernel refuses the batch (ERESTART) unless the ruleset is still at that generation.
    /// </summary>
    public static void WriteBatchMarker(ref NetlinkWriter writer, NfnetlinkBatchMessage type, uint sequence, uint? generation)
    {
        var start = writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.NONE, (byte)type, NetlinkMessageFlags.REQUEST, sequence,
            NetfilterFamily.UNSPEC, (ushort)NfnetlinkSubsystem.NFTABLES);
        if (generation is { } id)
            writer.WriteU32BigEndian((ushort)NfnetlinkBatchAttribute.GENID, id);
        writer.EndMessage(start);
    }

    private uint SendGetGeneration()
    {
        uint sequence = ReserveSequences(1);
        Span<byte> request = stackalloc byte[NetlinkAlignment.MessageHeaderSize + NetlinkAlignment.NfgenHeaderSize];
        var writer = new NetlinkWriter(request);
        var start = writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.NFTABLES, (byte)NftMessageType.GETGEN, NetlinkMessageFlags.REQUEST, sequence, NetfilterFamily.UNSPEC);
        writer.EndMessage(start);
        _socket.Send(writer.Written);
        return sequence;
    }

    private static bool TryReadGeneration(in NetlinkMessage message, out uint generation)
    {
        generation = 0;
        if (message.Type != MessageType(NftMessageType.NEWGEN))
            return false;
        var attributes = message.Attributes;
        while (attributes.TryRead(out var attribute))
        {
            if (attribute.Type == (ushort)NftGenAttribute.ID)
            {
                generation = attribute.U32BigEndian();
                return true;
            }
        }
        throw new NetlinkDecodeException("NFT_MSG_NEWGEN without NFTA_GEN_ID");
    }

    /// <summary>
    /// Sends the whole batch (BATCH_BEGIN..BATCH_END with sequence numbers <paramref name="firstSequence"/>..
    /// <paramref name="lastSequence"/>) in one sendmsg and collects every error reply for it. Every other reply whose
    /// sequence number is inside the batch (what NLM_F_ECHO asked the kernel to send back) goes to <paramref name="onEcho"/>.
    /// </summary>
    /// <remarks>
    /// No message asks for an ACK: nfnetlink runs the batch synchronously inside sendmsg and queues an
    /// error for each refused message, so success is "no error before the end marker". The end marker is
    /// a GETGEN request sent right after: replies are queued in order, so its NEWGEN reply arrives after every
    /// reply to the batch, on every kernel version (unlike ACKs for BATCH_END, which exist only from 6.10),
    /// and it carries the new generation id. If the receive queue overflowed (ENOBUFS), errors may have been
    /// lost; then the outcome is decided by the generation id, never guessed.
    /// </remarks>
    public BatchOutcome SendBatch(BatchBuffer batch, uint firstSequence, uint lastSequence, uint generationBefore, CancellationToken cancellationToken,
        DumpMessageHandler? onEcho = null)
    {
        DiscardStaleReplies();
        // The kernel rejects a datagram larger than sk_sndbuf - 32 with EMSGSIZE; rcvbuf must hold the error replies.
        _socket.EnsureSendBuffer((int)Math.Min(int.MaxValue, batch.Length + 65536));
        _socket.EnsureReceiveBuffer((int)Math.Min(int.MaxValue, Math.Max(MinimumSocketBuffer, (long)batch.MessageCount * 1024)));
        _socket.Send(batch.Segments());

        var errors = new List<KernelError>();
        bool repliesLost = false;
        uint marker = SendGetGeneration();
        var deadline = DateTime.UtcNow + ReplyTimeout;
        while (true)
        {
            int length;
            try
            {
                length = ReceiveWaiting(deadline, cancellationToken, resendMarkerAfterMilliseconds: 200);
            }
            catch (ErrnoException e) when (e.Errno == (int)Errno.NOBUFS)
            {
                repliesLost = true; // the queue overflowed; the marker may be lost too, so send another
                marker = SendGetGeneration();
                continue;
            }
            if (length < 0)
            {
                marker = SendGetGeneration(); // nothing arrived for a while: the marker was dropped
                continue;
            }
            var reader = new NetlinkMessageReader(_receive.AsSpan(0, length));
            while (reader.TryRead(out var message))
            {
                if (message.Type == (ushort)NetlinkMessageType.ERROR)
                {
                    var error = NetlinkErrorReply.Decode(message, out uint sequence);
                    if (error is not null && sequence >= firstSequence && sequence <= lastSequence)
                        errors.Add(error);
                    else if (error is not null && sequence == marker)
                    {
                        // Without CAP_NET_ADMIN nfnetlink refuses every request, the marker included: that is the
                        // batch's answer (its EPERM came first), not a failure to read the generation.
                        if (error.Errno == (int)Errno.PERM || errors.Count > 0)
                        {
                            if (errors.Count == 0)
                                errors.Add(error);
                            return new BatchOutcome(errors, generationBefore, generationBefore, repliesLost);
                        }
                        throw new NetlinkKernelException("reading the ruleset generation (NFT_MSG_GETGEN)", error);
                    }
                    continue;
                }
                if (onEcho is not null && message.Sequence >= firstSequence && message.Sequence <= lastSequence)
                    onEcho(message);
                else if (message.Sequence == marker && TryReadGeneration(message, out uint generationAfter))
                    return new BatchOutcome(errors, generationBefore, generationAfter, repliesLost);
            }
        }
    }

    /// <summary>
    /// Runs a dump (<c>NLM_F_DUMP</c>) and hands every reply message to <paramref name="handler"/>. A dump
    /// interrupted by a concurrent ruleset change (<c>NLM_F_DUMP_INTR</c>) is restarted from scratch after
    /// <paramref name="restart"/> lets the caller drop what it collected.
    /// </summary>
    public void Dump(NftMessageType type, NetfilterFamily family, DumpRequestWriter? writeRequest, DumpMessageHandler handler, Action restart, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            if (RunDump(type, family, writeRequest, handler, cancellationToken))
                return;
            if (attempt == MaxDumpRestarts)
                throw new NetlinkKernelException($"dumping ({type})",
                    new KernelError(0, (int)Errno.INTR, $"the ruleset kept changing during {MaxDumpRestarts} dump attempts", null));
            restart();
        }
    }

    private bool RunDump(NftMessageType type, NetfilterFamily family, DumpRequestWriter? writeRequest, DumpMessageHandler handler, CancellationToken cancellationToken)
    {
        DiscardStaleReplies();
        uint sequence = ReserveSequences(1);
        Span<byte> request = stackalloc byte[1024];
        var writer = new NetlinkWriter(request);
        var start = writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.NFTABLES, (byte)type, NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.DUMP, sequence, family);
        writeRequest?.Invoke(ref writer);
        writer.EndMessage(start);
        _socket.Send(writer.Written);

        bool interrupted = false;
        var deadline = DateTime.UtcNow + ReplyTimeout;
        while (true)
        {
            int length = ReceiveWaiting(deadline, cancellationToken);
            var reader = new NetlinkMessageReader(_receive.AsSpan(0, length));
            while (reader.TryRead(out var message))
            {
                if (message.Sequence != sequence)
                    continue;
                if ((message.Flags & NetlinkMessageFlags.DUMP_INTR) != 0)
                    interrupted = true;
                switch ((NetlinkMessageType)message.Type)
                {
                    case NetlinkMessageType.DONE:
                        if (message.Payload.Length >= 4 && BinaryPrimitives.ReadInt32LittleEndian(message.Payload) is < 0 and var status)
                        {
                            if (-status == (int)Errno.INTR)
                                return false;
                            throw new NetlinkKernelException($"dumping ({type})", new KernelError(sequence, -status, null, null));
                        }
                        return !interrupted;
                    case NetlinkMessageType.ERROR:
                        var error = NetlinkErrorReply.Decode(message, out _);
                        if (error is null)
                            continue;
                        if (error.Errno == (int)Errno.INTR)
                            return false;
                        throw new NetlinkKernelException($"dumping ({type})", error);
                    case NetlinkMessageType.NOOP:
                        continue;
                    default:
                        if (!interrupted)
                            handler(message);
                        break;
                }
            }
        }
    }

    /// <summary>Receives one datagram, waiting until <paramref name="deadline"/>; -1 when the marker wait elapsed.</summary>
    private int ReceiveWaiting(DateTime deadline, CancellationToken cancellationToken, int resendMarkerAfterMilliseconds = -1)
    {
        int waited = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int length = _socket.Receive(_receive, wait: false, out bool truncated);
            if (length >= 0)
            {
                if (truncated)
                    throw new NetlinkDecodeException($"a kernel reply was larger than the {_receive.Length}-byte receive buffer and was truncated");
                return length;
            }
            if (DateTime.UtcNow > deadline)
                throw new NetlinkTimeoutException($"the kernel did not answer within {ReplyTimeout.TotalSeconds:0} s");
            if (resendMarkerAfterMilliseconds >= 0 && waited >= resendMarkerAfterMilliseconds)
                return -1;
            // Short poll slices keep cancellation responsive without a thread per connection.
            if (!_socket.WaitReadable(50))
                waited += 50;
        }
    }

    /// <summary>Drops replies left over from an earlier, abandoned call so they can never be misread as ours.</summary>
    private void DiscardStaleReplies()
    {
        while (true)
        {
            try
            {
                if (_socket.Receive(_receive, wait: false, out _) < 0)
                    return;
            }
            catch (ErrnoException e) when (e.Errno == (int)Errno.NOBUFS)
            {
                // an overflow reported from an earlier call; keep draining
            }
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        ArrayPool<byte>.Shared.Return(_receive);
    }
}

/// <summary>Writes the attributes of a dump request (e.g. which table or set).</summary>
internal delegate void DumpRequestWriter(ref NetlinkWriter writer);

/// <summary>What came back for a batch: every error reply, and the generation ids around it.</summary>
internal sealed record BatchOutcome(IReadOnlyList<KernelError> Errors, uint GenerationBefore, uint GenerationAfter, bool RepliesLost);
