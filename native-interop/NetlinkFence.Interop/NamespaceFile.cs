using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace NetlinkFence.Interop;

/// <summary>Checks a path given as a network namespace before anything tries to enter it.</summary>
public static unsafe class NamespaceFile
{
    /// <summary><c>NS_GET_NSTYPE</c> (linux/nsfs.h: <c>_IO(0xb7, 0x3)</c>): the namespace type of an nsfs file, as a CLONE_NEW* flag.</summary>
    private const int NsGetNsType = 0xb703;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> with a plain message when <paramref name="path"/> exists but is not a
    /// network namespace file (<c>/run/netns/NAME</c>, <c>/proc/PID/ns/net</c>); returns true when it is the initial
    /// network namespace (the one of PID 1), when that can be told (reading <c>/proc/1/ns/net</c> needs root). A
    /// path that does not exist returns false: entering it fails later with ENOENT, which callers already report.
    /// </summary>
    public static bool CheckNetwork(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] name = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = name)
            fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
        {
            int error = errno;
            if (error == ENOENT || error == ENOTDIR)
                return false;
            throw new ErrnoException($"open({path})", error, "name a network namespace file such as /run/netns/NAME or /proc/PID/ns/net");
        }
        try
        {
            // ENOTTY (or EINVAL) when the file is not an nsfs file at all.
            int type = ioctl(fd, NsGetNsType, 0);
            if (type != CLONE_NEWNET)
                throw new ArgumentException($"{path} is not a network namespace; give a name from /run/netns or a path such as /proc/PID/ns/net");
            stat target, init;
            if (fstat(fd, &target) < 0)
                throw new ErrnoException($"fstat({path})", errno);
            fixed (byte* p = "/proc/1/ns/net\0"u8)
            {
                if (stat(p, &init) < 0)
                    return false;
            }
            return target.st_dev == init.st_dev && target.st_ino == init.st_ino;
        }
        finally
        {
            close(fd);
        }
    }
}
