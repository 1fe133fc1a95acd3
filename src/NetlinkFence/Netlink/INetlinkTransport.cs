namespace NetlinkFence.Netlink;

/// <summary>
/// The datagram socket under a <see cref="NetlinkConnection"/>: the seam that lets the reply handling (end
/// markers, ENOBUFS, stale replies, dump restarts) be tested with scripted kernel replies and no root.
/// </summary>
internal interface INetlinkTransport : IDisposable
{
    /// <summary>The port id the kernel assigned to the socket.</summary>
    uint PortId { get; }

    /// <summary>Sends one datagram.</summary>
    void Send(ReadOnlySpan<byte> datagram);

    /// <summary>Sends <paramref name="segments"/> as one datagram (one sendmsg).</summary>
    void Send(ReadOnlySpan<ReadOnlyMemory<byte>> segments);

    /// <summary>
    /// Receives one queued datagram from the kernel without waiting: its length, or -1 when none is queued.
    /// A receive-queue overflow raises <see cref="Interop.ErrnoException"/> with ENOBUFS.
    /// </summary>
    int TryReceive(Span<byte> buffer, out bool truncated);

    /// <summary>Blocks until a datagram is queued or the timeout (-1: none) passes; true when readable.</summary>
    bool WaitReadable(int timeoutMilliseconds, CancellationToken cancellationToken);

    /// <summary>Waits without blocking a thread until a datagram is queued or the timeout (-1: none) passes.</summary>
    ValueTask<bool> WaitReadableAsync(int timeoutMilliseconds, CancellationToken cancellationToken);

    /// <summary>Raises the send buffer so a datagram of <paramref name="bytes"/> fits.</summary>
    void EnsureSendBuffer(int bytes);

    /// <summary>Raises the receive buffer to at least <paramref name="bytes"/>.</summary>
    void EnsureReceiveBuffer(int bytes);
}
