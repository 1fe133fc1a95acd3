namespace NetlinkFence.Netlink;

/// <summary>
/// Marks a nested attribute begun with <see cref="NetlinkWriter.BeginNested"/>; <see cref="NetlinkWriter.EndNested"/>
/// takes it back to write <c>nla_len</c>. A distinct type from <see cref="NetlinkMessageToken"/>, so the two
/// cannot be swapped. Only valid with the writer that returned it.
/// </summary>
public readonly struct NetlinkNestToken
{
    internal NetlinkNestToken(int offset) => Offset = offset;

    /// <summary>Offset of the nest's <c>nlattr</c> header within the writer's buffer.</summary>
    public int Offset { get; }
}
