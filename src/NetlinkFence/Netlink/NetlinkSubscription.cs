using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>
/// A long-lived netlink stream for any protocol and multicast groups (nf_tables monitor, NFLOG): one task reads the
/// socket as soon as epoll says it is readable and writes each datagram into a <see cref="Pipe"/>; the consumer takes
/// whole datagrams out with <see cref="ReceiveAsync"/>. Receive queue overflows (ENOBUFS) are counted and handed to the
/// consumer in stream order, never thrown. One consumer at a time.
/// </summary>
/// <remarks>
/// Framing in the pipe: each record is an 8-byte header (int32 length, int32 overruns) and, when length &gt;= 0, that
/// many datagram bytes; length -1 marks a loss. The pipe pauses its writer at
/// <see cref="NetlinkSubscriptionLimits.PauseWriterThreshold"/>: a consumer that falls behind stops the socket being
/// read, the kernel's queue fills and drops, and the drop is reported (bounded memory, no silent loss).
/// </remarks>
internal sealed class NetlinkSubscription : IAsyncDisposable
{
    private const int HeaderSize = 8;
    private const int LossMarker = -1;
    private const int FlushEvery = 64 << 10;

    private readonly INetlinkDatagramSource _source;
    private readonly NetlinkSubscriptionLimits _limits;
    private readonly Pipe _pipe;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private byte[]? _assembly; // a record that spans pipe segments is copied here, once
    private long _overruns;
    private int _disposed;
    private bool _ended; // the consumer saw the end and completed its side of the pipe
    private ExceptionDispatchInfo? _failure; // why the reader stopped, thrown once everything before it is consumed

    internal NetlinkSubscription(INetlinkDatagramSource source, uint portId, NetlinkSubscriptionLimits? limits = null)
    {
        _source = source;
        PortId = portId;
        _limits = limits ?? NetlinkSubscriptionLimits.Default;
        _pipe = new Pipe(new PipeOptions(
            pauseWriterThreshold: _limits.PauseWriterThreshold,
            resumeWriterThreshold: _limits.PauseWriterThreshold / 2,
            useSynchronizationContext: false));
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>
    /// Opens a socket for <paramref name="protocol"/> (in the namespace given by path or handle, else here), joins
    /// <paramref name="groups"/> and starts reading. Notifications sent after this returns are delivered.
    /// </summary>
    public static NetlinkSubscription Open(NetlinkProtocol protocol, ReadOnlySpan<int> groups, string? namespacePath,
        NetworkNamespaceHandle? namespaceHandle, NetlinkSubscriptionLimits? limits = null) =>
        Start(namespaceHandle is not null ? NetlinkSocket.Open(protocol, namespaceHandle) : NetlinkSocket.Open(protocol, namespacePath),
            groups, limits);

    /// <summary>Like <see cref="Open"/>, without blocking the caller while the socket is made inside the namespace.</summary>
    public static async Task<NetlinkSubscription> OpenAsync(NetlinkProtocol protocol, int[] groups, string? namespacePath,
        NetworkNamespaceHandle? namespaceHandle, NetlinkSubscriptionLimits? limits = null) =>
        Start(await (namespaceHandle is not null ? NetlinkSocket.OpenAsync(protocol, namespaceHandle) : NetlinkSocket.OpenAsync(protocol, namespacePath))
            .ConfigureAwait(false), groups, limits);

    /// <summary>Starts reading <paramref name="socket"/> (already set up, e.g. bound to an NFLOG group); the subscription owns it.</summary>
    public static NetlinkSubscription Start(NetlinkSocket socket, ReadOnlySpan<int> groups, NetlinkSubscriptionLimits? limits)
    {
        limits ??= NetlinkSubscriptionLimits.Default;
        try
        {
            // Overflows must be reported, not hidden: NETLINK_NO_ENOBUFS off (the default, made explicit).
            socket.TrySetNetlinkOption(NetlinkSocketOption.NO_ENOBUFS, 0);
            socket.EnsureReceiveBuffer(limits.SocketReceiveBuffer);
            foreach (int group in groups)
                socket.JoinGroup(group);
            return new NetlinkSubscription(new SocketDatagramSource(socket), socket.PortId, limits);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The socket's netlink port id.</summary>
    public uint PortId { get; }

    /// <summary>How many times the kernel reported a receive queue overflow (or a datagram was cut) so far.</summary>
    public long Overruns => Interlocked.Read(ref _overruns);

    private async Task ReadLoopAsync()
    {
        var writer = _pipe.Writer;
        var stop = _stop.Token;
        byte[] datagram = ArrayPool<byte>.Shared.Rent(_limits.MaxDatagram);
        long unflushed = 0;
        try
        {
            while (true)
            {
                var status = _source.TryReceive(datagram.AsSpan(0, _limits.MaxDatagram), out int length);
                if (status == NetlinkReceiveStatus.Datagram)
                {
                    WriteRecord(writer, length, 0, datagram.AsSpan(0, length));
                    unflushed += HeaderSize + length;
                }
                else if (status is NetlinkReceiveStatus.Overrun or NetlinkReceiveStatus.Truncated)
                    unflushed += WriteLoss(writer);
                if (unflushed > 0 && (status == NetlinkReceiveStatus.WouldBlock || unflushed >= FlushEvery))
                {
                    // Waits here while the consumer is PauseWriterThreshold behind: the socket is not read meanwhile.
                    var flushed = await writer.FlushAsync(stop).ConfigureAwait(false);
                    unflushed = 0;
                    if (flushed.IsCompleted)
                        break; // the consumer side is gone
                }
                if (status == NetlinkReceiveStatus.WouldBlock && await _source.WaitAsync(stop).ConfigureAwait(false))
                    unflushed += WriteLoss(writer);
            }
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Not CompleteAsync(e): the pipe would throw it at the consumer at once and drop what is still queued.
            _failure = ExceptionDispatchInfo.Capture(e);
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(datagram);
        }
    }

    private int WriteLoss(PipeWriter writer)
    {
        Interlocked.Increment(ref _overruns);
        WriteRecord(writer, LossMarker, 1, default);
        return HeaderSize;
    }

    private static void WriteRecord(PipeWriter writer, int length, int overruns, ReadOnlySpan<byte> datagram)
    {
        Span<byte> header = writer.GetSpan(HeaderSize);
        BinaryPrimitives.WriteInt32LittleEndian(header, length);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], overruns);
        writer.Advance(HeaderSize);
        writer.Write(datagram);
    }

    /// <summary>
    /// Waits for what the socket received and hands every whole record to <paramref name="consumer"/>. Returns false
    /// when the stream has ended (disposed); after the last record, rethrows the failure that stopped the reader. Cancellation ends the wait at once with
    /// <see cref="OperationCanceledException"/> and loses nothing: records not yet handed over stay queued.
    /// </summary>
    public async ValueTask<bool> ReceiveAsync<TConsumer>(TConsumer consumer, CancellationToken cancellationToken)
        where TConsumer : INetlinkStreamConsumer
    {
        var reader = _pipe.Reader;
        while (!_ended)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            int delivered = 0;
            try
            {
                delivered = Deliver(ref buffer, consumer);
            }
            finally
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
            if (delivered > 0)
                return true;
            if (result.IsCompleted)
            {
                // The writer ended (disposed, or failed: then ReadAsync threw above). Only the consumer touches the
                // reader side, so completing it here cannot race a read in progress.
                _ended = true;
                await reader.CompleteAsync().ConfigureAwait(false);
            }
        }
        _failure?.Throw();
        return false;
    }

    private int Deliver<TConsumer>(ref ReadOnlySequence<byte> buffer, TConsumer consumer) where TConsumer : INetlinkStreamConsumer
    {
        int delivered = 0;
        Span<byte> header = stackalloc byte[HeaderSize];
        while (buffer.Length >= HeaderSize)
        {
            buffer.Slice(0, HeaderSize).CopyTo(header);
            int length = BinaryPrimitives.ReadInt32LittleEndian(header);
            int overruns = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
            if (length == LossMarker)
            {
                buffer = buffer.Slice(HeaderSize);
                delivered++;
                consumer.OnOverrun(overruns);
                continue;
            }
            if (buffer.Length < HeaderSize + length)
                break; // the writer flushes whole records, so this is only a record still being copied in
            var record = buffer.Slice(HeaderSize, length);
            buffer = buffer.Slice(record.End);
            delivered++;
            if (record.IsSingleSegment)
                consumer.OnDatagram(record.FirstSpan);
            else
            {
                if (_assembly is null || _assembly.Length < length)
                    _assembly = new byte[Math.Max(length, 4096)];
                record.CopyTo(_assembly);
                consumer.OnDatagram(_assembly.AsSpan(0, length));
            }
        }
        return delivered;
    }

    /// <summary>Stops reading at once, waits for the reader task, and closes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _stop.Cancel();
        await _reader.ConfigureAwait(false); // never faults: failures go into the pipe; a waiting consumer sees the end
        _source.Dispose();
        _stop.Dispose();
    }
}
