using System.Net.Sockets;

namespace NetlinkFence.Interop;

/// <summary>
/// Waits for a netlink socket to become readable without holding a thread: the descriptor is wrapped (not owned) in a
/// <see cref="Socket"/>, which registers it with the runtime's epoll loop. Made by <see cref="NetlinkSocket.WatchReadiness"/>.
/// </summary>
public sealed class NetlinkReadiness : IDisposable
{
    private readonly Socket _socket;

    internal NetlinkReadiness(int fd) =>
        _socket = new Socket(new SafeSocketHandle(fd, ownsHandle: false));

    /// <summary>
    /// Completes when a datagram is queued. Returns true when the kernel reported a receive queue overflow
    /// (<c>ENOBUFS</c>) instead: the wait consumed that report, so the caller must count it.
    /// Cancelling <paramref name="cancellationToken"/> ends the wait at once with <see cref="OperationCanceledException"/>.
    /// </summary>
    public async ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        try
        {
            // A zero-byte MSG_PEEK returns as soon as a datagram is queued without taking it (netlink_recvmsg copies
            // min(0, len) bytes and leaves the skb); on an empty queue it gets EAGAIN and the runtime waits on epoll.
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.Peek, cancellationToken).ConfigureAwait(false);
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
        {
            return true; // sk_err is cleared by whoever reads it, the peek included
        }
    }

    /// <summary>Unregisters the descriptor; it stays open (the <see cref="NetlinkSocket"/> owns it).</summary>
    public void Dispose() => _socket.Dispose();
}
