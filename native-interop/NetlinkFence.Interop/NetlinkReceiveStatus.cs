namespace NetlinkFence.Interop;

/// <summary>What <see cref="NetlinkSocket.ReceiveDatagram"/> found.</summary>
public enum NetlinkReceiveStatus
{
    /// <summary>A whole datagram was received.</summary>
    Datagram,
    /// <summary>A datagram was larger than the buffer: its tail is lost (<c>MSG_TRUNC</c>).</summary>
    Truncated,
    /// <summary>Nothing is queued (<c>EAGAIN</c>).</summary>
    WouldBlock,
    /// <summary>The receive queue overflowed and the kernel dropped messages (<c>ENOBUFS</c>); the socket stays usable.</summary>
    Overrun,
}
