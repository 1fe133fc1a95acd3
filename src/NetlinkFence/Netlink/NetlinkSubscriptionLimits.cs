namespace NetlinkFence.Netlink;

/// <summary>Buffer sizes of a <see cref="NetlinkSubscription"/>.</summary>
internal sealed record NetlinkSubscriptionLimits
{
    /// <summary>The socket's receive queue (SO_RCVBUFFORCE when permitted): what absorbs a burst while the reader is busy.</summary>
    public int SocketReceiveBuffer { get; init; } = 4 << 20;

    /// <summary>
    /// The largest datagram read whole. nf_tables notifications are at most NLMSG_GOODSIZE each and batched into
    /// skbs of that size; nfnetlink_log caps its buffers at 128 KiB (NFULNL_CFG_NLBUFSIZ).
    /// </summary>
    public int MaxDatagram { get; init; } = 160 << 10;

    /// <summary>
    /// Bytes read but not yet consumed at which the reader stops reading the socket: a slow consumer then makes the
    /// kernel's queue overflow, which is counted (ENOBUFS), instead of memory growing without bound.
    /// </summary>
    public long PauseWriterThreshold { get; init; } = 1 << 20;

    public static NetlinkSubscriptionLimits Default { get; } = new();
}
