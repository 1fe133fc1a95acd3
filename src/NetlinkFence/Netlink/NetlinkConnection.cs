using System.Buffers;
using System.Buffers.Binary;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>Handles one reply message; the message is only valid during the call.</summary>
internal delegate void DumpMessageHandler(in NetlinkMessage message);

/// <summary>Handles one reply message to a request; returns true when it answers the request.</summary>
internal delegate bool ReplyHandler(in NetlinkMessage message);

/// <summary>
/// A netlink connection for any protocol: sequence numbers, requests answered by an ACK or a reply, dumps, and
/// the receive loop under all of them. It knows no nfnetlink header and no protocol's message types.
/// Not thread-safe; the public connection types serialise callers.
/// </summary>
/// <remarks>
/// Every operation exists once, as an async method with a <c>synchronous</c> flag: with it, waits block the
/// calling thread in poll and the returned task is already complete; without it, waits are epoll-driven and
/// cancellation ends them at once. A reply already queued is read without any wait, so a call whose answer
/// the kernel queued inside sendmsg (every nfnetlink request) never leaves the calling thread.
/// </remarks>
internal sealed class NetlinkConnection : IDisposable
{
    public const int ReceiveBufferSize = 256 * 1024;
    private const int MaxDumpRestarts = 16;
    internal static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    private readonly INetlinkTransport _transport;
    private readonly bool _ownsTransport;
    private readonly byte[] _receive = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
    private uint _nextSequence;
    // Whether replies of an earlier exchange may still be queued: set when an exchange starts, cleared only by one
    // that read its last reply. A socket known to be empty is not asked again (one recvmsg less per request).
    private bool _mayHoldStaleReplies = true;

    /// <param name="transport">The socket; the connection owns it unless <paramref name="ownsTransport"/> is false.</param>
    /// <param name="firstSequence">The first sequence number to use (tests start it near the wrap).</param>
    /// <param name="ownsTransport">False when the socket lives on after the connection (NFLOG configures a socket
    /// that a <see cref="NetlinkSubscription"/> then reads).</param>
    public NetlinkConnection(INetlinkTransport transport, uint? firstSequence = null, bool ownsTransport = true)
    {
        _transport = transport;
        _ownsTransport = ownsTransport;
        // Seed the sequence space away from zero so replies to another socket's requests never look like ours.
        _nextSequence = firstSequence ?? ((uint)Environment.TickCount | 1);
    }

    public INetlinkTransport Transport => _transport;

    /// <summary>The sequence number the next reservation starts at.</summary>
    public uint NextSequence => _nextSequence;

    /// <summary>
    /// Reserves <paramref name="count"/> consecutive sequence numbers (modulo 2^32: a range may wrap past zero,
    /// so compare with <see cref="InRange"/>, never with &lt;=) and returns the first.
    /// </summary>
    public uint ReserveSequences(uint count)
    {
        uint first = _nextSequence;
        _nextSequence = first + count;
        return first;
    }

    /// <summary>Whether <paramref name="sequence"/> is one of the <paramref name="count"/> numbers from <paramref name="first"/>, across the wrap.</summary>
    public static bool InRange(uint sequence, uint first, uint count) => sequence - first < count;

    /// <summary>A deadline for <see cref="ReceiveAsync"/> on the monotonic clock.</summary>
    public static long Deadline(TimeSpan timeout) => Environment.TickCount64 + (long)timeout.TotalMilliseconds;

    /// <summary>The bytes of the datagram <see cref="ReceiveAsync"/> returned.</summary>
    public ReadOnlySpan<byte> Received(int length) => _receive.AsSpan(0, length);

    public void Send(ReadOnlySpan<byte> datagram) => _transport.Send(datagram);

    public void Send(ReadOnlySpan<ReadOnlyMemory<byte>> segments) => _transport.Send(segments);

    /// <summary>
    /// Receives one datagram into the receive buffer and returns its length; -1 when <paramref name="sliceMilliseconds"/>
    /// (when not -1) passed with nothing queued. Throws <see cref="NetlinkTimeoutException"/> at <paramref name="deadline"/>.
    /// </summary>
    public async ValueTask<int> ReceiveAsync(long deadline, int sliceMilliseconds, bool synchronous, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int length = _transport.TryReceive(_receive, out bool truncated);
            if (length >= 0)
            {
                if (truncated)
                    throw new NetlinkDecodeException($"a kernel reply was larger than the {_receive.Length}-byte receive buffer and was truncated");
                return length;
            }
            long left = deadline - Environment.TickCount64;
            if (left <= 0)
                throw new NetlinkTimeoutException($"the kernel did not answer within {ReplyTimeout.TotalSeconds:0} s");
            int wait = (int)Math.Min(left, sliceMilliseconds < 0 ? int.MaxValue : sliceMilliseconds);
            bool readable = synchronous
                ? _transport.WaitReadable(wait, cancellationToken)
                : await _transport.WaitReadableAsync(wait, cancellationToken).ConfigureAwait(false);
            if (!readable && wait == sliceMilliseconds)
                return -1;
        }
    }

    /// <summary>
    /// Starts an exchange: drops replies left over from an earlier one that did not read its last reply (abandoned,
    /// failed, or ended before all answers came), so they can never be misread as ours. Until
    /// <see cref="EndExchange"/>, the socket counts as possibly holding replies again.
    /// </summary>
    public void BeginExchange()
    {
        if (_mayHoldStaleReplies)
            DiscardQueued();
        _mayHoldStaleReplies = true;
    }

    /// <summary>Records that the current exchange read its last reply: the kernel queued nothing after it.</summary>
    public void EndExchange() => _mayHoldStaleReplies = false;

    private void DiscardQueued()
    {
        while (true)
        {
            try
            {
                if (_transport.TryReceive(_receive, out _) < 0)
                    return;
            }
            catch (ErrnoException e) when (e.Errno == (int)Errno.NOBUFS)
            {
                // an overflow reported from an earlier call; keep draining
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/> (one message; its sequence number is filled in here) and waits for its
    /// answer: an ACK (error 0, when the request asked for one), or a reply for which <paramref name="onReply"/>
    /// returns true. An error reply raises <see cref="NetlinkKernelException"/> naming <paramref name="operation"/>.
    /// </summary>
    public async ValueTask RequestAsync(Memory<byte> request, string operation, ReplyHandler? onReply, bool synchronous, CancellationToken cancellationToken)
    {
        BeginExchange();
        uint sequence = SendOne(request.Span);
        // A reply that answers a request asking for an ACK may still have the ACK behind it.
        bool askedForAck = (BinaryPrimitives.ReadUInt16LittleEndian(request.Span[6..]) & (ushort)NetlinkMessageFlags.ACK) != 0;
        long deadline = Deadline(ReplyTimeout);
        while (true)
        {
            int length = await ReceiveAsync(deadline, -1, synchronous, cancellationToken).ConfigureAwait(false);
            if (IsAnswered(Received(length), sequence, operation, onReply, out bool byAck))
            {
                if (byAck || !askedForAck)
                    EndExchange();
                return;
            }
        }
    }

    private static bool IsAnswered(ReadOnlySpan<byte> datagram, uint sequence, string operation, ReplyHandler? onReply, out bool byAck)
    {
        byAck = false;
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var message))
        {
            if (message.Sequence != sequence)
                continue; // a stale reply to an earlier request
            if (message.Type == (ushort)NetlinkMessageType.ERROR)
            {
                var error = NetlinkErrorReply.Decode(message, out _);
                if (error is not null)
                    throw new NetlinkKernelException(operation, error);
                byAck = true;
                return true;
            }
            if (onReply is not null && onReply(message))
                return true;
        }
        return false;
    }

    /// <summary>
    /// Runs a dump: sends <paramref name="request"/> (one message with NLM_F_DUMP; its sequence number is filled in
    /// here) and hands every reply message to <paramref name="handler"/> until NLMSG_DONE. A dump interrupted by a
    /// concurrent change (<c>NLM_F_DUMP_INTR</c>, or EINTR as its status) is restarted from scratch after
    /// <paramref name="restart"/> lets the caller drop what it collected.
    /// </summary>
    public async ValueTask DumpAsync(Memory<byte> request, string operation, DumpMessageHandler handler, Action restart, bool synchronous, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            if (await RunDumpAsync(request, operation, handler, synchronous, cancellationToken).ConfigureAwait(false))
                return;
            if (attempt == MaxDumpRestarts)
                throw new NetlinkKernelException(operation,
                    new KernelError(0, (int)Errno.INTR, $"the ruleset kept changing during {MaxDumpRestarts} dump attempts", null));
            restart();
        }
    }

    private enum DumpState { Running, Complete, Interrupted }

    private async ValueTask<bool> RunDumpAsync(Memory<byte> request, string operation, DumpMessageHandler handler, bool synchronous, CancellationToken cancellationToken)
    {
        BeginExchange();
        uint sequence = SendOne(request.Span);
        bool interrupted = false;
        long deadline = Deadline(ReplyTimeout);
        while (true)
        {
            int length = await ReceiveAsync(deadline, -1, synchronous, cancellationToken).ConfigureAwait(false);
            var state = ReadDumpReplies(Received(length), sequence, operation, handler, ref interrupted);
            if (state == DumpState.Complete)
                EndExchange(); // NLMSG_DONE is the dump's last reply (an interrupted one is restarted on a drained socket)
            if (state != DumpState.Running)
                return state == DumpState.Complete;
        }
    }

    private static DumpState ReadDumpReplies(ReadOnlySpan<byte> datagram, uint sequence, string operation, DumpMessageHandler handler, ref bool interrupted)
    {
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var message))
        {
            if (message.Sequence != sequence)
                continue; // a stale reply to an earlier request
            if ((message.Flags & NetlinkMessageFlags.DUMP_INTR) != 0)
                interrupted = true;
            switch ((NetlinkMessageType)message.Type)
            {
                case NetlinkMessageType.DONE:
                    // NLMSG_DONE carries the dump's status as an int (negative errno); old kernels send no payload.
                    if (message.Payload.Length >= 4 && BinaryPrimitives.ReadInt32LittleEndian(message.Payload) is < 0 and var status)
                    {
                        if (-status == (int)Errno.INTR)
                            return DumpState.Interrupted;
                        throw new NetlinkKernelException(operation, new KernelError(sequence, -status, null, null));
                    }
                    return interrupted ? DumpState.Interrupted : DumpState.Complete;
                case NetlinkMessageType.ERROR:
                    var error = NetlinkErrorReply.Decode(message, out _);
                    if (error is null)
                        continue;
                    if (error.Errno == (int)Errno.INTR)
                        return DumpState.Interrupted;
                    throw new NetlinkKernelException(operation, error);
                case NetlinkMessageType.NOOP:
                    continue;
                default:
                    if (!interrupted)
                        handler(message);
                    break;
            }
        }
        return DumpState.Running;
    }

    /// <summary>Gives the one message in <paramref name="request"/> a fresh sequence number and sends it.</summary>
    private uint SendOne(Span<byte> request)
    {
        uint sequence = ReserveSequences(1);
        BinaryPrimitives.WriteUInt32LittleEndian(request[8..], sequence); // nlmsghdr.nlmsg_seq
        _transport.Send(request);
        return sequence;
    }

    public void Dispose()
    {
        if (_ownsTransport)
            _transport.Dispose();
        ArrayPool<byte>.Shared.Return(_receive);
    }
}
