namespace NetlinkFence.Netlink;

/// <summary>An object cannot be encoded: it breaks a netlink or nf_tables limit (an attribute over 64 KiB, a name too long, ...).</summary>
public sealed class NetlinkEncodingException : NetlinkFenceException
{
    /// <summary>Creates the exception.</summary>
    public NetlinkEncodingException(string message) : base(message) { }
}
