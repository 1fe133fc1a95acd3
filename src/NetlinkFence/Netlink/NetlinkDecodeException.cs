namespace NetlinkFence.Netlink;

/// <summary>Bytes from the kernel (or a test) are not well-formed netlink: truncated, misaligned or with lying lengths.</summary>
public sealed class NetlinkDecodeException : NetlinkFenceException
{
    /// <summary>Creates the exception.</summary>
    public NetlinkDecodeException(string message) : base(message) { }
}
