namespace NetlinkFence.Netlink;

/// <summary>
/// The kernel did not answer a request in time. Netlink requests are answered synchronously by the kernel, so this
/// means a reply was lost or the socket is stuck, not a slow kernel; the request may or may not have been applied.
/// </summary>
public sealed class NetlinkTimeoutException : NetlinkFenceException
{
    /// <summary>Creates the exception.</summary>
    public NetlinkTimeoutException(string message) : base(message) { }
}
