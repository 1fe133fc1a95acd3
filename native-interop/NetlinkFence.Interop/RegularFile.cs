using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace NetlinkFence.Interop;

/// <summary>
/// Reads a file that must be a regular file, never more than a limit: a path to <c>/dev/zero</c> would otherwise
/// grow without end, and a FIFO would block the reader until some writer appears.
/// </summary>
public static unsafe class RegularFile
{
    /// <summary>
    /// Reads at most <paramref name="maxBytes"/> + 1 bytes of <paramref name="path"/> (following symlinks), so a
    /// result longer than <paramref name="maxBytes"/> means the file is larger than the limit. Throws
    /// <see cref="NotARegularFileException"/> for a directory, FIFO, device or socket, <see cref="ErrnoException"/>
    /// when the file cannot be opened or read.
    /// </summary>
    public static byte[] Read(string path, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        byte[] name = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        // The type is checked before opening (opening a device can have effects) and again on the opened file
        // (the path may have been replaced in between). O_NONBLOCK keeps the open of a FIFO from waiting for a writer.
        stat before;
        fixed (byte* p = name)
        {
            if (stat(p, &before) < 0)
                throw new ErrnoException($"stat({path})", errno);
        }
        ThrowUnlessRegular(path, (uint)before.st_mode);
        int fd;
        fixed (byte* p = name)
            fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
            throw new ErrnoException($"open({path})", errno);
        try
        {
            stat opened;
            if (fstat(fd, &opened) < 0)
                throw new ErrnoException($"fstat({path})", errno);
            ThrowUnlessRegular(path, (uint)opened.st_mode);
            // Sized by what the file claims, but never trusted: a file may grow, and /proc files claim 0 bytes.
            var buffer = new byte[(int)Math.Min((long)maxBytes + 1, Math.Max(64 * 1024, (long)opened.st_size + 1))];
            var content = new MemoryStream();
            while (content.Length <= maxBytes)
            {
                int want = (int)Math.Min(buffer.Length, maxBytes + 1 - content.Length);
                ssize_t got;
                fixed (byte* b = buffer)
                    got = read(fd, b, want);
                if (got < 0 && errno == EINTR)
                    continue;
                if (got < 0)
                    throw new ErrnoException($"read({path})", errno);
                if (got == 0)
                    break;
                content.Write(buffer, 0, (int)got);
            }
            return content.ToArray();
        }
        finally
        {
            close(fd);
        }
    }

    private static void ThrowUnlessRegular(string path, uint mode)
    {
        // The file type bits of st_mode (S_IFMT and its values, from sys/stat.h).
        string? kind = (mode & 0xF000) switch
        {
            0x8000 => null,
            0x4000 => "a directory",
            0x1000 => "a FIFO",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => "not a regular file",
        };
        if (kind is not null)
            throw new NotARegularFileException(path, kind);
    }
}
