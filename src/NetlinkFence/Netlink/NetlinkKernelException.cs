namespace NetlinkFence.Netlink;

/// <summary>The kernel refused a request outside a transaction (a dump, a generation read).</summary>
public sealed class NetlinkKernelException : NetlinkFenceException
{
    /// <summary>Creates the exception for <paramref name="error"/> raised while <paramref name="operation"/>.</summary>
    public NetlinkKernelException(string operation, KernelError error)
        : base($"the kernel refused {operation}: {error}"
            + (error.Errno == (int)Interop.Uapi.Errno.PERM ? "; nfnetlink needs CAP_NET_ADMIN in the target network namespace (run as root)" : ""), error.Errno)
    {
        Error = error;
    }

    /// <summary>The kernel's error reply.</summary>
    public KernelError Error { get; }
}
