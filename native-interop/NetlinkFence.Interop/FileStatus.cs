namespace NetlinkFence.Interop;

/// <summary>What <c>fstat</c> says about an open file: its owner and its mode (type and permission bits).</summary>
/// <param name="OwnerUid">The owning user id.</param>
/// <param name="Mode">The raw <c>st_mode</c>: file type and permission bits.</param>
public readonly record struct FileStatus(uint OwnerUid, uint Mode)
{
    private const uint TypeMask = 0xF000, Directory = 0x4000, Regular = 0x8000; // S_IFMT, S_IFDIR, S_IFREG

    /// <summary>The permission bits (e.g. 0600), without the file type.</summary>
    public uint Permissions => Mode & 0xFFF;

    /// <summary>Whether it is a directory.</summary>
    public bool IsDirectory => (Mode & TypeMask) == Directory;

    /// <summary>Whether it is a regular file (not a directory, FIFO, device, socket or link).</summary>
    public bool IsRegularFile => (Mode & TypeMask) == Regular;

    /// <summary>Whether users other than the owner may write to it (group or world write bit).</summary>
    public bool IsWritableByOthers => (Mode & 0x12) != 0; // 0022
}
