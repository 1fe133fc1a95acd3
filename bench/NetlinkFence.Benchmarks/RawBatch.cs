using System.Buffers.Binary;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// The kernel floor: the very bytes the library encodes for a transaction, sent with one raw <c>sendmsg</c>
/// on a plain <see cref="NetlinkSocket"/>, then the receive queue drained (on success: the NEWGEN echoed for
/// BATCH_BEGIN and the ACK of the last message, the replies the library reads too). nfnetlink validates and
/// commits the batch synchronously inside sendmsg, so this is the kernel's own time plus the syscalls that
/// send it and read what it queued: what tools/anchor-bench calls "pre-encoded replay".
/// </summary>
internal sealed class RawBatch : IDisposable
{
    private readonly NetlinkSocket _socket;
    private readonly byte[] _bytes;
    private readonly byte[] _receive = new byte[64 * 1024];

    /// <param name="transaction">What to replay.</param>
    /// <param name="networkNamespace">Where.</param>
    /// <param name="asChecked">The bytes of a generation-checked commit, less the check (a replay must never be refused
    /// as stale): such a commit knows its next generation and asks no NEWGEN echo of a few elements.</param>
    public RawBatch(Transaction transaction, string networkNamespace, bool asChecked = false) : this(Encode(transaction, asChecked), networkNamespace)
    {
    }

    /// <summary>Bytes already encoded by <see cref="Encode"/> (so a per-run namespace does not pay the encoding again).</summary>
    public RawBatch(byte[] bytes, string networkNamespace)
    {
        _bytes = bytes;
        _socket = NetlinkSocket.Open(NetlinkProtocol.NETFILTER, "/run/netns/" + networkNamespace);
        _socket.EnsureSendBuffer(_bytes.Length + 65536);
        _socket.EnsureReceiveBuffer(4 << 20);
    }

    public int Length => _bytes.Length;

    /// <summary>The batch bytes exactly as <see cref="NftablesConnection.CommitAsync"/> would send them (one contiguous copy).</summary>
    public static byte[] Encode(Transaction transaction, bool asChecked = false)
    {
        using var batch = new BatchBuffer();
        int[] map = new int[64];
        TransactionEncoder.Encode(transaction, batch, 1, null, ref map);
        var bytes = new byte[batch.Length];
        int offset = 0;
        foreach (var segment in batch.Segments())
        {
            segment.Span.CopyTo(bytes.AsSpan(offset));
            offset += segment.Length;
        }
        if (asChecked && TransactionEncoder.EchoesGeneration(transaction, generationChecked: false) && !TransactionEncoder.EchoesGeneration(transaction, generationChecked: true))
        {
            // The first message follows BATCH_BEGIN: its nlmsg_flags lose NLM_F_ECHO, as the checked commit sends them.
            var flags = bytes.AsSpan((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes) + 6, 2);
            BinaryPrimitives.WriteUInt16LittleEndian(flags, (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(flags) & ~(ushort)NetlinkMessageFlags.ECHO));
        }
        return bytes;
    }

    public void Commit()
    {
        _socket.Send(_bytes);
        while (true)
        {
            int length = _socket.Receive(_receive, wait: false, out _);
            if (length < 0)
                return;
            ThrowOnError(_receive.AsSpan(0, length));
        }
    }

    /// <summary>
    /// <see cref="Commit"/> plus a GETGEN request and a wait for its reply: what the library's end marker cost when
    /// it ended every commit (before the batch's last message asked for an ACK), kept for comparison.
    /// </summary>
    public void CommitWithMarker()
    {
        Commit();
        MarkerRoundTrip();
    }

    /// <summary>The completion marker alone: GETGEN sent, NEWGEN received.</summary>
    public void MarkerRoundTrip()
    {
        Span<byte> request = stackalloc byte[NetlinkAlignment.MessageHeaderSize + NetlinkAlignment.NfgenHeaderSize];
        var writer = new NetlinkWriter(request);
        writer.EndMessage(writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.NFTABLES, (byte)NftMessageType.GETGEN, NetlinkMessageFlags.REQUEST, 0, NetfilterFamily.UNSPEC));
        _socket.Send(writer.Written);
        while (true)
        {
            int length = _socket.Receive(_receive, wait: true, out _);
            ThrowOnError(_receive.AsSpan(0, length));
            var reader = new NetlinkMessageReader(_receive.AsSpan(0, length));
            while (reader.TryRead(out var message))
            {
                if (message.Type == NftablesChannel.MessageType(NftMessageType.NEWGEN))
                    return;
            }
        }
    }

    private static void ThrowOnError(ReadOnlySpan<byte> datagram)
    {
        while (datagram.Length >= 20)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(datagram);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(datagram[4..]);
            if (type == (ushort)NetlinkMessageType.ERROR && BinaryPrimitives.ReadInt32LittleEndian(datagram[16..]) is var error and not 0)
                throw new InvalidOperationException($"the kernel refused the replayed batch: errno {-error}");
            if (length < 16 || length > datagram.Length)
                return;
            datagram = datagram[((length + 3) & ~3)..];
        }
    }

    public void Dispose() => _socket.Dispose();
}
