namespace NetlinkFence.Logging;

/// <summary>How an <see cref="NflogReader"/> configures its NFLOG instance and buffers records.</summary>
public sealed record NflogReaderOptions
{
    /// <summary>
    /// Bytes of each packet the kernel copies (<c>NFULNL_COPY_PACKET</c> with this range): enough for an IPv6 header,
    /// a few extension headers and the L4 ports. Default 128.
    /// </summary>
    public int CopyRange { get; init; } = 128;

    /// <summary>
    /// Packets the kernel batches into one datagram before sending (<c>NFULA_CFG_QTHRESH</c>); a partial batch is sent
    /// after <see cref="FlushTimeout"/>. Default 64.
    /// </summary>
    public int QueueThreshold { get; init; } = 64;

    /// <summary>How long the kernel holds a partial batch (<c>NFULA_CFG_TIMEOUT</c>, in 10 ms steps). Default 10 ms.</summary>
    public TimeSpan FlushTimeout { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The kernel's batch buffer (<c>NFULA_CFG_NLBUFSIZ</c>; the kernel caps it at 128 KiB). Default 16 KiB.</summary>
    public int KernelBufferSize { get; init; } = 16 << 10;

    /// <summary>
    /// The socket's receive queue (raised with SO_RCVBUFFORCE when permitted; never lowered below the system default):
    /// what absorbs a burst of denials while the reader is busy. Default 4 MiB.
    /// </summary>
    public int SocketReceiveBuffer { get; init; } = 4 << 20;

    /// <summary>
    /// Decoded records held for a slow consumer of <see cref="NflogReader.ReadAsync"/>; beyond it new records are
    /// dropped and counted in <see cref="NflogReader.DroppedSlowConsumer"/>. Default 10,000.
    /// </summary>
    public int BufferCapacity { get; init; } = 10_000;

    /// <summary>
    /// True (the default): when <see cref="BufferCapacity"/> records wait for the consumer, newer ones are dropped and
    /// counted in <see cref="NflogReader.DroppedSlowConsumer"/>, and the socket is still read. False: the reader waits
    /// for the consumer; the socket's queue then fills and the kernel drops, counted in <see cref="NflogReader.LostInKernel"/>.
    /// </summary>
    public bool DropWhenFull { get; init; } = true;

    /// <summary>
    /// True (the default): each egress TCP/UDP denial's sending socket is looked up over NETLINK_SOCK_DIAG in the
    /// reader's namespace as the record arrives, for its cgroup (<see cref="DenialRecord.CgroupId"/>,
    /// <see cref="DenialRecord.Cgroup"/>, <see cref="DenialRecord.Unit"/>): one kernel request per socket and datagram
    /// of records. False: those stay null.
    /// </summary>
    public bool SocketCgroups { get; init; } = true;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(CopyRange, 0, nameof(CopyRange));
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueThreshold, 1, nameof(QueueThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThan(FlushTimeout, TimeSpan.Zero, nameof(FlushTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(KernelBufferSize, 4096, nameof(KernelBufferSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(BufferCapacity, 1, nameof(BufferCapacity));
    }
}
