using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace NetlinkFence.Interop;

/// <summary>Owner and permission bits of a file (following symlinks), for the policy-file hygiene check.</summary>
public static unsafe class FileOwnership
{
    /// <summary>Returns the owning uid and the mode bits of <paramref name="path"/> (stat: the file is not opened, so a FIFO cannot block).</summary>
    public static (uint OwnerUid, uint Mode) Inspect(string path)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        stat info;
        fixed (byte* p = bytes)
        {
            if (stat(p, &info) < 0)
                throw new ErrnoException($"stat({path})", errno);
        }
        return ((uint)info.st_uid, (uint)info.st_mode);
    }
}
