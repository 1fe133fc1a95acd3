namespace NetlinkFence.Netlink;

/// <summary>
/// Marks a message begun with <see cref="NetlinkWriter.BeginMessage"/>; <see cref="NetlinkWriter.EndMessage"/>
/// takes it back to write <c>nlmsg_len</c>. A distinct type from <see cref="NetlinkNestToken"/>, so the two
/// cannot be swapped. Only valid with the writer that returned it.
/// </summary>
public readonly struct NetlinkMessageToken
{
    internal NetlinkMessageToken(int offset) => Offset = offset;

    /// <summary>Offset of the message's <c>nlmsghdr</c> within the writer's buffer.</summary>
    public int Offset { get; }
}
