using System.Buffers.Binary;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>One message a scripted kernel saw: its header fields.</summary>
internal readonly record struct SentMessage(ushort Type, NetlinkMessageFlags Flags, uint Sequence)
{
    public bool Is(NftMessageType type) => Type == NftablesChannel.MessageType(type);
}

/// <summary>
/// A transport whose "kernel" is a script: every datagram sent is handed to <see cref="OnSend"/>, which queues
/// the replies (or an overflow, or nothing). Waiting never takes time: a short wait (a marker-resend slice) with
/// nothing queued times out at once, as if the time had passed; a long one (up to the reply deadline) is a wait
/// for an answer, which ends when something is queued or the caller cancels.
/// For rootless unit tests of the reply handling above the socket, never in place of kernel tests.
/// </summary>
internal sealed class ScriptedTransport : INetlinkTransport
{
    private readonly Queue<(byte[]? Datagram, bool Truncated)> _queue = new(); // null datagram = ENOBUFS
    private const int ShortWaitMilliseconds = 10_000; // the reply deadline is 30 s, a resend slice 200 ms
    private TaskCompletionSource _queued = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Called with every datagram sent, split into messages.</summary>
    public Action<IReadOnlyList<SentMessage>>? OnSend { get; set; }

    /// <summary>Every datagram sent, in order.</summary>
    public List<IReadOnlyList<SentMessage>> Sent { get; } = [];

    /// <summary>How many receives were tried (a try that found nothing queued included).</summary>
    public int Receives { get; private set; }

    /// <summary>How many datagrams (and overflows) are queued and not yet received.</summary>
    public int QueuedCount => _queue.Count;

    /// <summary>How many bounded waits timed out with nothing queued.</summary>
    public int TimedOutWaits { get; private set; }

    public uint PortId => 4242;

    public bool Disposed { get; private set; }

    public void Send(ReadOnlySpan<byte> datagram)
    {
        var messages = new List<SentMessage>();
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var m))
            messages.Add(new SentMessage(m.Type, m.Flags, m.Sequence));
        Sent.Add(messages);
        OnSend?.Invoke(messages);
    }

    public void Send(ReadOnlySpan<ReadOnlyMemory<byte>> segments)
    {
        var whole = new List<byte>();
        foreach (var segment in segments)
            whole.AddRange(segment.ToArray());
        Send(whole.ToArray());
    }

    /// <summary>Queues one datagram holding <paramref name="messages"/>; <paramref name="truncated"/> marks it MSG_TRUNC.</summary>
    public void Queue(bool truncated, params byte[][] messages)
    {
        _queue.Enqueue((messages.SelectMany(m => m).ToArray(), truncated));
        _queued.TrySetResult();
    }

    /// <summary>Queues each message as its own datagram (as the kernel sends error replies).</summary>
    public void QueueEach(params byte[][] messages)
    {
        foreach (var message in messages)
            Queue(false, message);
    }

    /// <summary>Queues a receive-queue overflow: the next receive fails with ENOBUFS.</summary>
    public void QueueOverflow()
    {
        _queue.Enqueue((null, false));
        _queued.TrySetResult();
    }

    public int TryReceive(Span<byte> buffer, out bool truncated)
    {
        truncated = false;
        Receives++;
        if (!_queue.TryDequeue(out var item))
            return -1;
        if (item.Datagram is null)
            throw new ErrnoException("recvmsg", (int)Errno.NOBUFS);
        truncated = item.Truncated;
        item.Datagram.CopyTo(buffer);
        return item.Datagram.Length;
    }

    public bool WaitReadable(int timeoutMilliseconds, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_queue.Count > 0)
            return true;
        if (timeoutMilliseconds is < 0 or >= ShortWaitMilliseconds)
            throw new InvalidOperationException("the script queued nothing and the caller would wait for the reply deadline");
        TimedOutWaits++;
        return false;
    }

    public async ValueTask<bool> WaitReadableAsync(int timeoutMilliseconds, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_queue.Count > 0)
            return true;
        if (timeoutMilliseconds is >= 0 and < ShortWaitMilliseconds)
        {
            TimedOutWaits++;
            return false;
        }
        _queued = new(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queued.Task.WaitAsync(cancellationToken);
        return true;
    }

    public void EnsureSendBuffer(int bytes) { }

    public void EnsureReceiveBuffer(int bytes) { }

    public void Dispose() => Disposed = true;
}

/// <summary>Kernel replies, byte for byte as netlink lays them out.</summary>
internal static class KernelReply
{
    private const int HeaderSize = 16, NfgenSize = 4;

    /// <summary>NLMSG_ERROR for request <paramref name="sequence"/>, capped (header only echoed), errno positive; 0 = ACK.</summary>
    public static byte[] Error(uint sequence, int errno, ushort requestType = 0)
    {
        var m = Header(HeaderSize + 4 + HeaderSize, (ushort)NetlinkMessageType.ERROR, NetlinkMessageFlags.CAPPED, sequence);
        BinaryPrimitives.WriteInt32LittleEndian(m.AsSpan(HeaderSize), -errno);
        var request = m.AsSpan(HeaderSize + 4);
        BinaryPrimitives.WriteUInt32LittleEndian(request, HeaderSize + NfgenSize);
        BinaryPrimitives.WriteUInt16LittleEndian(request[4..], requestType);
        BinaryPrimitives.WriteUInt32LittleEndian(request[8..], sequence);
        return m;
    }

    /// <summary>NFT_MSG_NEWGEN with NFTA_GEN_ID = <paramref name="generation"/>.</summary>
    public static byte[] NewGeneration(uint sequence, uint generation)
    {
        var m = Nfnetlink(NftMessageType.NEWGEN, default, sequence, 8);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(HeaderSize + NfgenSize), 8);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(HeaderSize + NfgenSize + 2), (ushort)NftGenAttribute.ID);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(HeaderSize + NfgenSize + 4), generation);
        return m;
    }

    /// <summary>An nf_tables object message (e.g. one dump entry or an echo), with a 4-byte attribute carrying <paramref name="id"/>.</summary>
    public static byte[] Object(NftMessageType type, uint sequence, uint id, NetlinkMessageFlags flags = NetlinkMessageFlags.MULTI)
    {
        var m = Nfnetlink(type, flags, sequence, 8);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(HeaderSize + NfgenSize), 8);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(HeaderSize + NfgenSize + 2), 99);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(HeaderSize + NfgenSize + 4), id);
        return m;
    }

    /// <summary>The id written by <see cref="Object"/>.</summary>
    public static uint ObjectId(in NetlinkMessage message) => BinaryPrimitives.ReadUInt32BigEndian(message.Payload[(NfgenSize + 4)..]);

    /// <summary>NLMSG_DONE with <paramref name="status"/> (0, or a negative errno).</summary>
    public static byte[] Done(uint sequence, int status = 0, NetlinkMessageFlags flags = NetlinkMessageFlags.MULTI)
    {
        var m = Header(HeaderSize + 4, (ushort)NetlinkMessageType.DONE, flags, sequence);
        BinaryPrimitives.WriteInt32LittleEndian(m.AsSpan(HeaderSize), status);
        return m;
    }

    private static byte[] Nfnetlink(NftMessageType type, NetlinkMessageFlags flags, uint sequence, int attributes) =>
        Header(HeaderSize + NfgenSize + attributes, NftablesChannel.MessageType(type), flags, sequence);

    private static byte[] Header(int length, ushort type, NetlinkMessageFlags flags, uint sequence)
    {
        var m = new byte[length];
        BinaryPrimitives.WriteUInt32LittleEndian(m, (uint)length);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(6), (ushort)flags);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), sequence);
        return m;
    }
}
