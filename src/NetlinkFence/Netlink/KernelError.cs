using NetlinkFence.Interop;

namespace NetlinkFence.Netlink;

/// <summary>One error reply from the kernel (an <c>NLMSG_ERROR</c> with a non-zero code), with its extended ACK.</summary>
public sealed class KernelError
{
    internal KernelError(uint sequence, int errno, string? message, int? attributeOffset)
    {
        Sequence = sequence;
        Errno = errno;
        Message = message;
        AttributeOffset = attributeOffset;
    }

    /// <summary>Sequence number of the request message that failed.</summary>
    public uint Sequence { get; }

    /// <summary>The positive errno value.</summary>
    public int Errno { get; }

    /// <summary>The errno's symbolic name, e.g. <c>ENOENT</c>.</summary>
    public string ErrnoName => ErrnoException.NameOf(Errno);

    /// <summary>The kernel's extended-ACK text (<c>NLMSGERR_ATTR_MSG</c>), when it gave one.</summary>
    public string? Message { get; }

    /// <summary>Offset of the offending attribute from the start of the failed message (<c>NLMSGERR_ATTR_OFFS</c>).</summary>
    public int? AttributeOffset { get; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{ErrnoName} ({ErrnoException.Describe(Errno)})" + (Message is null ? "" : $": {Message}");
}
