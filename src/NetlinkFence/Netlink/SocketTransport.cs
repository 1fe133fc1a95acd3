using NetlinkFence.Interop;

namespace NetlinkFence.Netlink;

/// <summary>The real transport: a <see cref="NetlinkSocket"/>.</summary>
internal sealed class SocketTransport(NetlinkSocket socket) : INetlinkTransport
{
    // A synchronous wait that can be cancelled looks at the token this often; asynchronous waits need no slices.
    private const int CancellationSliceMilliseconds = 50;

    public NetlinkSocket Socket => socket;

    public uint PortId => socket.PortId;

    public void Send(ReadOnlySpan<byte> datagram) => socket.Send(datagram);

    public void Send(ReadOnlySpan<ReadOnlyMemory<byte>> segments) => socket.Send(segments);

    public int TryReceive(Span<byte> buffer, out bool truncated) => socket.Receive(buffer, wait: false, out truncated);

    public bool WaitReadable(int timeoutMilliseconds, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
            return socket.WaitReadable(timeoutMilliseconds);
        long deadline = timeoutMilliseconds < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMilliseconds;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long left = deadline - Environment.TickCount64;
            if (left <= 0)
                return false;
            if (socket.WaitReadable((int)Math.Min(left, CancellationSliceMilliseconds)))
                return true;
        }
    }

    public async ValueTask<bool> WaitReadableAsync(int timeoutMilliseconds, CancellationToken cancellationToken)
    {
        if (timeoutMilliseconds < 0)
        {
            await socket.WaitReadableAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeoutMilliseconds);
        try
        {
            await socket.WaitReadableAsync(timer.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false; // our timer, not the caller
        }
    }

    public void EnsureSendBuffer(int bytes) => socket.EnsureSendBuffer(bytes);

    public void EnsureReceiveBuffer(int bytes) => socket.EnsureReceiveBuffer(bytes);

    public void Dispose() => socket.Dispose();
}
