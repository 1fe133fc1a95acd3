namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// How the daemon's denial forwarding is doing, for its metrics file: whether the collector is connected, what waits,
/// what was sent, and every way a denial the kernel logged can fail to reach the collector. Counts are since the
/// pipeline started (a reload that changes the collector or the group starts a new one).
/// </summary>
/// <param name="Collector">host:port of <c>log.remote</c>.</param>
/// <param name="Connected">A verified TLS connection is open now.</param>
/// <param name="Queued">Messages waiting to be written.</param>
/// <param name="Sent">Messages written to the collector (resends and the drop and unlogged reports included).</param>
/// <param name="DroppedQueueFull">Denials dropped because the queue was full (the collector is told how many).</param>
/// <param name="LostInKernel">Denials the kernel could not deliver to the reader (its socket's queue overflowed).</param>
/// <param name="LostInReader">Denials the reader dropped because the forwarder fell behind.</param>
/// <param name="LostUnbound">Denials logged while no reader was bound (between a reader's failure and the next).</param>
/// <param name="ReaderRestarts">Times the NFLOG group was bound again after its reader failed or ended.</param>
internal sealed record ForwardingHealth(string Collector, bool Connected, int Queued, ulong Sent, ulong DroppedQueueFull, ulong LostInKernel, ulong LostInReader,
    ulong LostUnbound, ulong ReaderRestarts)
{
    /// <summary>When the collector's certificate, as last verified, stops being valid (null before the first connection).</summary>
    public DateTimeOffset? CollectorCertificateExpires { get; init; }

    /// <summary>When the client certificate, as last presented, stops being valid (null without one).</summary>
    public DateTimeOffset? ClientCertificateExpires { get; init; }
}
