using static Tmds.Linux.LibC;

namespace NetlinkFence.Interop;

/// <summary>Detaching the current process from its terminal (for the rollback waiter, a copy of the tool itself).</summary>
public static unsafe class ProcessSession
{
    /// <summary><c>setsid</c>: a new session and process group, without a controlling terminal.</summary>
    public static void StartSession()
    {
        if (setsid() < 0 && errno != EPERM) // EPERM: already a process group leader, i.e. not in the caller's group
            throw new ErrnoException("setsid()", errno);
    }

    /// <summary>Points file descriptors 0, 1 and 2 at <c>/dev/null</c>.</summary>
    public static void RedirectStandardStreamsToDevNull()
    {
        byte[] path = "/dev/null\0"u8.ToArray();
        int fd;
        fixed (byte* p = path)
            fd = open(p, O_RDWR | O_CLOEXEC);
        if (fd < 0)
            throw new ErrnoException("open(/dev/null)", errno);
        try
        {
            for (int target = 0; target <= 2; target++)
            {
                if (dup2(fd, target) < 0)
                    throw new ErrnoException($"dup2(/dev/null, {target})", errno);
            }
        }
        finally
        {
            close(fd);
        }
    }
}
