using System.Diagnostics;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>Writes the attributes of a dump request (e.g. which table or set).</summary>
internal delegate void DumpRequestWriter(ref NetlinkWriter writer);

/// <summary>
/// A <c>NETLINK_NETFILTER</c> connection: nfgenmsg-headed requests and dumps for any nfnetlink subsystem, and
/// batches (BATCH_BEGIN..BATCH_END in one sendmsg). It knows no subsystem's message types: the subsystem on
/// top says which request marks the end of a batch's replies.
/// Not thread-safe; the public connection serialises callers.
/// </summary>
internal sealed class NfnetlinkChannel : IDisposable
{
    private const int MinimumSocketBuffer = 4 << 20; // what nft asks for as well
    private const int MarkerResendMilliseconds = 200;

    private NfnetlinkChannel(NetlinkConnection connection) => Connection = connection;

    /// <summary>The netlink connection underneath (sequence numbers, receive loop).</summary>
    public NetlinkConnection Connection { get; }

    public static NfnetlinkChannel Open(string? networkNamespacePath, NetworkNamespaceHandle? networkNamespace = null, uint? firstSequence = null) =>
        Configure(networkNamespace is not null
            ? NetlinkSocket.Open(NetlinkProtocol.NETFILTER, networkNamespace)
            : NetlinkSocket.Open(NetlinkProtocol.NETFILTER, networkNamespacePath), firstSequence);

    public static async Task<NfnetlinkChannel> OpenAsync(string? networkNamespacePath, NetworkNamespaceHandle? networkNamespace = null, uint? firstSequence = null) =>
        Configure(await (networkNamespace is not null
            ? NetlinkSocket.OpenAsync(NetlinkProtocol.NETFILTER, networkNamespace)
            : NetlinkSocket.OpenAsync(NetlinkProtocol.NETFILTER, networkNamespacePath)).ConfigureAwait(false), firstSequence);

    /// <summary>A channel over any transport (tests script one).</summary>
    public static NfnetlinkChannel Over(INetlinkTransport transport, uint? firstSequence = null) =>
        new(new NetlinkConnection(transport, firstSequence));

    private static NfnetlinkChannel Configure(NetlinkSocket socket, uint? firstSequence)
    {
        try
        {
            // Extended ACKs give the kernel's error text and the offending attribute's offset; capped
            // ACKs keep error replies small (header only) so thousands of them fit the receive queue.
            socket.TrySetNetlinkOption(NetlinkSocketOption.EXT_ACK, 1);
            socket.TrySetNetlinkOption(NetlinkSocketOption.CAP_ACK, 1);
            socket.EnsureReceiveBuffer(MinimumSocketBuffer);
            return Over(new SocketTransport(socket), firstSequence);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes NFNL_MSG_BATCH_BEGIN or _END for <paramref name="subsystem"/> (carried in res_id); with
    /// <paramref name="generation"/> the kernel refuses the batch (ERESTART) unless the ruleset is still at that generation.
    /// </summary>
    public static void WriteBatchMarker(ref NetlinkWriter writer, NfnetlinkSubsystem subsystem, NfnetlinkBatchMessage type, uint sequence, uint? generation)
    {
        // Batch markers belong to no subsystem (NFNL_SUBSYS_NONE); res_id names the one the batch is for.
        var start = writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.NONE, (byte)type, NetlinkMessageFlags.REQUEST, sequence,
            NetfilterFamily.UNSPEC, (ushort)subsystem);
        if (generation is { } id)
            writer.WriteU32BigEndian((ushort)NfnetlinkBatchAttribute.GENID, id);
        writer.EndMessage(start);
    }

    /// <summary>Sends BATCH_BEGIN, BATCH_END and nothing between (no ACK asked, so no reply comes).</summary>
    public void SendEmptyBatch(NfnetlinkSubsystem subsystem)
    {
        Connection.BeginExchange(); // not ended: a refused BEGIN (EPERM) would leave an error queued
        uint first = Connection.ReserveSequences(2);
        Span<byte> request = stackalloc byte[2 * (NetlinkAlignment.MessageHeaderSize + NetlinkAlignment.NfgenHeaderSize)];
        var writer = new NetlinkWriter(request);
        WriteBatchMarker(ref writer, subsystem, NfnetlinkBatchMessage.BATCH_BEGIN, first, null);
        WriteBatchMarker(ref writer, subsystem, NfnetlinkBatchMessage.BATCH_END, first + 1, null);
        Connection.Send(writer.Written);
    }

    /// <summary>
    /// Sends the whole batch (<paramref name="count"/> messages, BATCH_BEGIN..BATCH_END, sequence numbers from
    /// <paramref name="firstSequence"/>, possibly wrapping past zero) in one sendmsg and collects every reply for it:
    /// errors, the commit's NEWGEN when the first message asked for an echo (read by <paramref name="readGeneration"/>),
    /// and NLM_F_ECHO copies of objects, which go to <paramref name="onEcho"/>.
    /// </summary>
    /// <remarks>
    /// When the batch has messages between BEGIN and END, the last of them asks for an ACK (the encoder sets
    /// NLM_F_ACK on it): nfnetlink runs the batch inside sendmsg and queues that ACK after
    /// every error of the batch, on every kernel version (unlike ACKs for BATCH_END, 6.10+, and only on success), so
    /// its arrival ends the replies and no second request is needed. A batch refused as a whole gets one error for
    /// BATCH_BEGIN instead; then the replies end when the socket has nothing more queued.
    /// A GETGEN end marker (<paramref name="markerType"/>; its reply is queued after every reply to the batch) is sent
    /// only when that cannot work: the batch asks no ACK (it is empty), the receive queue overflowed (ENOBUFS: the
    /// ACK may be lost too, and the outcome says replies were lost), or nothing arrived for a while (a marker lost
    /// that way is sent again; any marker's answer ends the wait).
    /// </remarks>
    public async ValueTask<BatchOutcome> SendBatchAsync(BatchBuffer batch, uint firstSequence, uint count,
        ushort markerType, EndMarkerReader readGeneration, string markerOperation, DumpMessageHandler? onEcho,
        bool synchronous, CancellationToken cancellationToken)
    {
        SendBatch(batch);
        uint? acknowledged = count > 2 ? firstSequence + count - 2 : null; // the message before BATCH_END
        var replies = new BatchReplies(firstSequence, count, acknowledged, onEcho, readGeneration, markerOperation);
        if (replies.NeedsMarker)
            replies.MarkerSent(SendMarker(markerType));
        long deadline = NetlinkConnection.Deadline(NetlinkConnection.ReplyTimeout);
        while (true)
        {
            int length;
            try
            {
                // Draining: everything was queued inside sendmsg, so do not wait (a slice of 0 ms polls once).
                length = await Connection.ReceiveAsync(deadline, replies.EndsWhenDrained ? 0 : MarkerResendMilliseconds,
                    synchronous, cancellationToken).ConfigureAwait(false);
            }
            catch (ErrnoException e) when (e.Errno == (int)Errno.NOBUFS)
            {
                replies.RepliesLost = true; // the queue overflowed; the ACK may be lost too, so end with a marker
                replies.MarkerSent(SendMarker(markerType));
                continue;
            }
            if (length < 0)
            {
                if (replies.EndsWhenDrained)
                    return Ended(ref replies, replies.Drained());
                replies.MarkerSent(SendMarker(markerType)); // nothing arrived for a while: ask for an end marker
                continue;
            }
            if (replies.Read(Connection.Received(length)))
                return Ended(ref replies, replies.Outcome);
        }
    }

    private BatchOutcome Ended(ref BatchReplies replies, BatchOutcome outcome)
    {
        if (replies.ReadAll)
            Connection.EndExchange();
        return outcome;
    }

    private void SendBatch(BatchBuffer batch)
    {
        Connection.BeginExchange();
        var transport = Connection.Transport;
        // The kernel rejects a datagram larger than sk_sndbuf - 32 with EMSGSIZE; rcvbuf must hold the error replies.
        transport.EnsureSendBuffer((int)Math.Min(int.MaxValue, batch.Length + 65536));
        transport.EnsureReceiveBuffer((int)Math.Min(int.MaxValue, Math.Max(MinimumSocketBuffer, (long)batch.MessageCount * 1024)));
        transport.Send(batch.Segments());
    }

    private uint SendMarker(ushort type)
    {
        uint sequence = Connection.ReserveSequences(1);
        Span<byte> request = stackalloc byte[NetlinkAlignment.MessageHeaderSize + NetlinkAlignment.NfgenHeaderSize];
        var writer = new NetlinkWriter(request);
        var start = writer.BeginMessage(type, NetlinkMessageFlags.REQUEST, sequence);
        writer.WriteNfgenHeader(NetfilterFamily.UNSPEC);
        writer.EndMessage(start);
        Connection.Send(writer.Written);
        return sequence;
    }

    /// <summary>
    /// Sends a request of <paramref name="type"/> (attributes from <paramref name="writeRequest"/>, no ACK) and waits
    /// for the reply <paramref name="onReply"/> accepts; an error reply raises <see cref="NetlinkKernelException"/>.
    /// </summary>
    public ValueTask RequestAsync(ushort type, NetfilterFamily family, DumpRequestWriter? writeRequest, string operation, ReplyHandler onReply,
        bool synchronous, CancellationToken cancellationToken) =>
        Connection.RequestAsync(Request(type, NetlinkMessageFlags.REQUEST, family, writeRequest), operation, onReply, synchronous, cancellationToken);

    /// <summary>Runs a dump of <paramref name="type"/> (see <see cref="NetlinkConnection.DumpAsync"/>).</summary>
    public ValueTask DumpAsync(ushort type, NetfilterFamily family, DumpRequestWriter? writeRequest, string operation,
        DumpMessageHandler handler, Action restart, bool synchronous, CancellationToken cancellationToken) =>
        Connection.DumpAsync(Request(type, NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.DUMP, family, writeRequest),
            operation, handler, restart, synchronous, cancellationToken);

    private static byte[] Request(ushort type, NetlinkMessageFlags flags, NetfilterFamily family, DumpRequestWriter? writeRequest)
    {
        Span<byte> request = stackalloc byte[1024];
        var writer = new NetlinkWriter(request);
        var start = writer.BeginMessage(type, flags, 0); // the connection fills in the sequence number
        writer.WriteNfgenHeader(family);
        writeRequest?.Invoke(ref writer);
        writer.EndMessage(start);
        return writer.Written.ToArray();
    }

    /// <summary>Returns the result of an operation run with <c>synchronous: true</c>, which has already completed.</summary>
    public static T Completed<T>(ValueTask<T> operation)
    {
        Debug.Assert(operation.IsCompleted, "a synchronous operation returned before it completed");
        return operation.GetAwaiter().GetResult();
    }

    /// <inheritdoc cref="Completed{T}(ValueTask{T})"/>
    public static void Completed(ValueTask operation)
    {
        Debug.Assert(operation.IsCompleted, "a synchronous operation returned before it completed");
        operation.GetAwaiter().GetResult();
    }

    public void Dispose() => Connection.Dispose();
}
