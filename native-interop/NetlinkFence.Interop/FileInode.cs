using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace NetlinkFence.Interop;

/// <summary>
/// A path's inode number, from <c>stat(2)</c>. On cgroup2 (kernfs, 64-bit) a cgroup directory's inode number is the
/// kernel's cgroup id: the value <c>socket cgroupv2</c> compares and sock_diag reports.
/// </summary>
public static unsafe class FileInode
{
    /// <summary>The inode of <paramref name="path"/>, or null when nothing is there (ENOENT, ENOTDIR).</summary>
    /// <exception cref="ErrnoException">stat failed for another reason (e.g. EACCES).</exception>
    public static ulong? Of(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        stat info;
        fixed (byte* p = bytes)
        {
            if (stat(p, &info) == 0)
                return (ulong)info.st_ino;
        }
        int error = errno;
        if (error == ENOENT || error == ENOTDIR)
            return null;
        throw new ErrnoException($"stat({path})", error);
    }
}
