using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Interop;

// Not in an unsafe part: an async method cannot live in an unsafe context.
public sealed partial class NetlinkSocket
{
    private NetlinkReadiness? _readiness; // created on the first asynchronous wait

    /// <summary>
    /// Waits, without blocking a thread, until a datagram is queued (or a queue overflow is pending, which then
    /// raises ENOBUFS). Cancelling <paramref name="cancellationToken"/> ends the wait at once with
    /// <see cref="OperationCanceledException"/>. Nothing is consumed: read the datagram with <see cref="Receive"/>.
    /// </summary>
    public async ValueTask WaitReadableAsync(CancellationToken cancellationToken)
    {
        _readiness ??= new NetlinkReadiness(Fd);
        if (await _readiness.WaitAsync(cancellationToken).ConfigureAwait(false))
            throw ReceiveError((int)Errno.NOBUFS); // the peek consumed the kernel's one overflow report: raise it here
    }

    private void DisposeReadiness() => _readiness?.Dispose(); // ends a pending wait; the descriptor is not its to close
}
