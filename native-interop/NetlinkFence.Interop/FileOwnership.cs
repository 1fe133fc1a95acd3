using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace NetlinkFence.Interop;

/// <summary>Owner and permission bits of a file (following symlinks), for the policy-file hygiene check.</summary>
public static unsafe class FileOwnership
{
    /// <summary>Returns the owning uid and the mode bits of <paramref name="path"/>.</summary>
    public static (uint OwnerUid, uint Mode) Inspect(string path)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = bytes)
            fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            throw new ErrnoException($"open({path})", errno);
        try
        {
            stat info;
            if (fstat(fd, &info) < 0)
                throw new ErrnoException($"fstat({path})", errno);
            return ((uint)info.st_uid, (uint)info.st_mode);
        }
        finally
        {
            close(fd);
        }
    }
}
