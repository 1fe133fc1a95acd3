namespace NetlinkFence.Logging.Syslog;

/// <summary>
/// Where denials the kernel logged to the NFLOG group were lost before a forwarder could queue them, for
/// <see cref="SyslogTlsForwarder.ReportLost"/> (the <c>where</c> of a <c>LOST</c> message).
/// </summary>
public enum DenialLoss
{
    /// <summary>The reading socket's receive queue overflowed (<c>ENOBUFS</c>, gaps in NFLOG's sequence numbers): <c>where="kernel"</c>.</summary>
    KernelQueue,

    /// <summary>The reader's buffer was full because its consumer fell behind: <c>where="reader"</c>.</summary>
    ReaderBuffer,

    /// <summary>No reader was bound to the group (between a reader's failure and the next): <c>where="unbound"</c>.</summary>
    NoReader,
}

/// <summary>The names of <see cref="DenialLoss"/> values.</summary>
public static class DenialLossNames
{
    /// <summary>
    /// The word a <c>LOST</c> message's <c>where</c> gives <paramref name="loss"/>: <c>kernel</c>, <c>reader</c> or
    /// <c>unbound</c>; monitoring that labels losses uses the same words, so a collector's messages and the metrics agree.
    /// </summary>
    public static string WhereName(this DenialLoss loss) => loss switch
    {
        DenialLoss.KernelQueue => "kernel",
        DenialLoss.ReaderBuffer => "reader",
        _ => "unbound",
    };
}
