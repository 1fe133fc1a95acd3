using System.Net.Sockets;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Interop;

// Not in an unsafe part: an async method cannot live in an unsafe context.
public sealed partial class NetlinkSocket
{
    private Socket? _readiness; // shares the descriptor; created on the first asynchronous wait

    /// <summary>
    /// Waits, without blocking a thread, until a datagram is queued (or a queue overflow is pending, which then
    /// raises ENOBUFS). Cancelling <paramref name="cancellationToken"/> ends the wait at once with
    /// <see cref="OperationCanceledException"/>. Nothing is consumed: read the datagram with <see cref="Receive"/>.
    /// </summary>
    public async ValueTask WaitReadableAsync(CancellationToken cancellationToken)
    {
        // A zero-byte MSG_PEEK receive completes as soon as a datagram is queued and leaves it there; the
        // runtime retries it from its epoll thread when the descriptor becomes readable.
        _readiness ??= new Socket(new SafeSocketHandle((IntPtr)Fd, ownsHandle: false));
        try
        {
            await _readiness.ReceiveAsync(Memory<byte>.Empty, SocketFlags.Peek, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
        {
            // The kernel reports (and clears) a receive-queue overflow on the next receive, this peek included.
            throw ReceiveError((int)Errno.NOBUFS);
        }
    }

    private void DisposeReadiness() => _readiness?.Dispose(); // ends a pending wait; the descriptor is not its to close
}
