using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace NetlinkFence.Interop;

/// <summary>
/// An open directory, and files opened, created, renamed and removed relative to it (<c>openat</c> and friends),
/// so that once the directory has been checked a rename or a symbolic link swapped in along its path cannot
/// redirect what follows. Every open uses <c>O_NOFOLLOW</c> (a symbolic link is refused, never followed),
/// <c>O_NONBLOCK</c> (a FIFO planted in place of a file cannot hang the open) and <c>O_CLOEXEC</c>. File names
/// are single path components. Callers check what they opened with <see cref="StatusOf"/>.
/// </summary>
public sealed unsafe class DirectoryHandle : IDisposable
{
    private const int LockExclusive = 2, LockNonBlocking = 4; // LOCK_EX, LOCK_NB

    private readonly SafeFileHandle _handle;

    private DirectoryHandle(SafeFileHandle handle, string path)
    {
        _handle = handle;
        Path = path;
    }

    /// <summary>The path the directory was opened by (for messages).</summary>
    public string Path { get; }

    /// <summary>Owner, mode and type of the directory itself.</summary>
    public FileStatus Status => StatusOf(_handle);

    /// <summary>The effective user id of this process (<c>geteuid</c>).</summary>
    public static uint EffectiveUserId => geteuid();

    /// <summary>
    /// Opens the directory at <paramref name="path"/>, first creating it with <paramref name="createMode"/> when
    /// it does not exist (its parent must). The last component must be a directory, not a symbolic link.
    /// </summary>
    public static DirectoryHandle OpenOrCreate(string path, uint createMode)
    {
        byte[] bytes = NullTerminated(path);
        fixed (byte* p = bytes)
        {
            if (mkdir(p, (mode_t)createMode) < 0 && errno != EEXIST)
                throw new ErrnoException($"mkdir({path})", errno);
        }
        return Open(path);
    }

    /// <summary>
    /// Opens the existing directory at <paramref name="path"/>, never creating it: a missing directory is an
    /// <see cref="ErrnoException"/> with ENOENT. The last component must be a directory, not a symbolic link.
    /// </summary>
    public static DirectoryHandle Open(string path)
    {
        byte[] bytes = NullTerminated(path);
        fixed (byte* p = bytes)
        {
            int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0)
            {
                int error = errno;
                throw new ErrnoException($"open({path})", error, error == ELOOP || error == ENOTDIR ? "a symbolic link or not a directory" : null);
            }
            return new DirectoryHandle(new SafeFileHandle(fd, ownsHandle: true), path);
        }
    }

    /// <summary>Opens an existing file for reading; null when there is none.</summary>
    public SafeFileHandle? OpenExisting(string name) => OpenAt(name, O_RDONLY, 0, missingIsNull: true);

    /// <summary>Creates a new file for writing with <paramref name="mode"/>; fails when anything has that name (<c>O_EXCL</c>).</summary>
    public SafeFileHandle CreateNew(string name, uint mode) => OpenAt(name, O_WRONLY | O_CREAT | O_EXCL, mode, missingIsNull: false)!;

    /// <summary>Opens a file for reading and writing (or appending), creating it with <paramref name="mode"/> when missing.</summary>
    public SafeFileHandle OpenOrCreate(string name, uint mode, bool append) =>
        OpenAt(name, (append ? O_WRONLY | O_APPEND : O_RDWR) | O_CREAT, mode, missingIsNull: false)!;

    /// <summary>Renames <paramref name="from"/> to <paramref name="to"/> within this directory, replacing it (<c>renameat</c>).</summary>
    public void Rename(string from, string to)
    {
        byte[] a = NullTerminated(CheckName(from)), b = NullTerminated(CheckName(to));
        fixed (byte* pa = a)
        fixed (byte* pb = b)
        {
            if (renameat(DirectoryFd, pa, DirectoryFd, pb) < 0)
                throw new ErrnoException($"rename({Path}/{from}, {to})", errno);
        }
    }

    /// <summary>Removes the directory entry <paramref name="name"/> (a symbolic link itself, never its target); false when there was none.</summary>
    public bool Delete(string name)
    {
        byte[] bytes = NullTerminated(CheckName(name));
        fixed (byte* p = bytes)
        {
            if (unlinkat(DirectoryFd, p, 0) == 0)
                return true;
            if (errno == ENOENT)
                return false;
            throw new ErrnoException($"unlink({Path}/{name})", errno);
        }
    }

    /// <summary>Owner, mode and type of an open file (<c>fstat</c>).</summary>
    public static FileStatus StatusOf(SafeFileHandle file)
    {
        stat info;
        if (fstat(Fd(file), &info) < 0)
            throw new ErrnoException("fstat", errno);
        return new FileStatus((uint)info.st_uid, (uint)info.st_mode);
    }

    /// <summary>Takes an exclusive <c>flock</c> without waiting; false when another open file holds it. Released when the handle is closed.</summary>
    public static bool TryLockExclusive(SafeFileHandle file)
    {
        if (flock(Fd(file), LockExclusive | LockNonBlocking) == 0)
            return true;
        int error = Marshal.GetLastPInvokeError();
        if (error == EWOULDBLOCK)
            return false;
        throw new ErrnoException("flock", error);
    }

    /// <summary>Writes all of <paramref name="bytes"/> at the file's position (at its end with <c>O_APPEND</c>).</summary>
    public static void Write(SafeFileHandle file, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            for (int done = 0; done < bytes.Length;)
            {
                ssize_t n = write(Fd(file), p + done, bytes.Length - done);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    throw new ErrnoException("write", n < 0 ? errno : EIO);
                done += (int)n;
            }
        }
    }

    /// <summary>Flushes the file's data to the storage (<c>fsync</c>).</summary>
    public static void Sync(SafeFileHandle file)
    {
        if (fsync(Fd(file)) < 0)
            throw new ErrnoException("fsync", errno);
    }

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();

    private int DirectoryFd => Fd(_handle);

    private static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    private SafeFileHandle? OpenAt(string name, int flags, uint mode, bool missingIsNull)
    {
        byte[] bytes = NullTerminated(CheckName(name));
        int fd;
        fixed (byte* p = bytes)
            fd = openat(DirectoryFd, p, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, (mode_t)mode);
        if (fd >= 0)
            return new SafeFileHandle(fd, ownsHandle: true);
        int error = errno;
        if (error == ENOENT && missingIsNull)
            return null;
        throw new ErrnoException($"open({Path}/{name})", error, error == ELOOP ? "it is a symbolic link" : null);
    }

    private static string CheckName(string name) =>
        name.Length == 0 || name.Contains('/') || name is "." or ".." ? throw new ArgumentException($"'{name}' is not a file name", nameof(name)) : name;

    private static byte[] NullTerminated(string s) => Encoding.UTF8.GetBytes(s + "\0");

    [DllImport("libc", SetLastError = true)]
    private static extern int flock(int fd, int operation);

    [DllImport("libc", SetLastError = true)]
    private static extern int renameat(int olddirfd, byte* oldpath, int newdirfd, byte* newpath);
}
