using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace NetlinkFence.Interop;

/// <summary>
/// An open network namespace file (<c>/run/netns/NAME</c>, <c>/proc/PID/ns/net</c>). While it is open the namespace
/// lives, and it stays the same namespace even if the name is later pointed at another one or the PID is reused:
/// open it once and enter it through this handle (<see cref="NetworkNamespace.Run{T}(NetworkNamespaceHandle, Func{T})"/>).
/// </summary>
public sealed unsafe class NetworkNamespaceHandle : SafeHandle
{
    private const int NsGetUserNs = 0xb701, NsGetParent = 0xb702, NsGetNsType = 0xb703; // _IO(NSIO = 0xb7, 1..3), linux/nsfs.h

    private NetworkNamespaceHandle(int fd, string path, ulong device, ulong inode)
        : base(new IntPtr(-1), ownsHandle: true)
    {
        SetHandle(new IntPtr(fd));
        Path = path;
        Device = device;
        Inode = inode;
    }

    /// <summary>The path it was opened from.</summary>
    public string Path { get; }

    /// <summary>The device of the namespace file (nsfs): with <see cref="Inode"/>, the namespace's identity while it lives.</summary>
    public ulong Device { get; }

    /// <summary>The inode of the namespace file; the kernel may give it to a new namespace once this one is gone.</summary>
    public ulong Inode { get; }

    /// <summary>The file descriptor (another process can open the same namespace as <c>/proc/PID/fd/FD</c>).</summary>
    public int FileDescriptor => (int)handle;

    /// <inheritdoc/>
    public override bool IsInvalid => handle == new IntPtr(-1);

    /// <summary>Opens <paramref name="path"/>: <see cref="InvalidInputException"/> when it is not a network namespace file, <see cref="ErrnoException"/> when it cannot be opened.</summary>
    public static NetworkNamespaceHandle Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = bytes)
            fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK); // O_NONBLOCK: a FIFO given as a namespace must not hang the open
        if (fd < 0)
            throw new ErrnoException($"open({path})", errno, "name a network namespace file such as /run/netns/NAME or /proc/PID/ns/net");
        stat info;
        if (fstat(fd, &info) < 0)
        {
            int error = errno;
            close(fd);
            throw new ErrnoException($"fstat({path})", error);
        }
        var opened = new NetworkNamespaceHandle(fd, path, (ulong)info.st_dev, (ulong)info.st_ino);
        // NS_GET_NSTYPE answers CLONE_NEWNET for a network namespace file only (another namespace type, or any other file, is refused).
        int type = ioctl(fd, NsGetNsType, null);
        if (type != CLONE_NEWNET)
        {
            opened.Dispose();
            throw new InvalidInputException($"{path} is not a network namespace file; name one such as /run/netns/NAME or /proc/PID/ns/net");
        }
        return opened;
    }

    /// <summary>
    /// The namespace's cookie (<c>SO_NETNS_COOKIE</c> of a socket made inside it): unlike the inode, never given to
    /// another namespace while the system runs. Null when the kernel is older than 5.14 and has none.
    /// </summary>
    public ulong? ReadCookie() => NetworkNamespace.Run(this, () =>
    {
        const int SolSocket = 1, SoNetnsCookie = 71;
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw new ErrnoException("socket(AF_UNIX)", errno);
        try
        {
            ulong cookie = 0;
            socklen_t length = sizeof(ulong);
            if (getsockopt(fd, SolSocket, SoNetnsCookie, &cookie, &length) == 0)
                return (ulong?)cookie;
            return errno == ENOPROTOOPT ? null : throw new ErrnoException("getsockopt(SO_NETNS_COOKIE)", errno);
        }
        finally
        {
            close(fd);
        }
    });

    /// <summary>
    /// True when this is the initial network namespace (PID 1's), when that can be told: reading
    /// <c>/proc/1/ns/net</c> needs root, and false is the answer when it cannot be read.
    /// </summary>
    public bool IsInitial
    {
        get
        {
            stat init;
            fixed (byte* p = "/proc/1/ns/net\0"u8)
            {
                if (stat(p, &init) < 0)
                    return false;
            }
            return (ulong)init.st_dev == Device && (ulong)init.st_ino == Inode;
        }
    }

    /// <summary>
    /// The inodes of the user namespace that owns this network namespace and of its ancestors, as far up as this
    /// process may look (<c>NS_GET_USERNS</c>, then <c>NS_GET_PARENT</c> until the kernel answers EPERM). A process
    /// has capabilities over the network namespace only in one of these user namespaces (user_namespaces(7)), so
    /// <c>/proc/PID/ns/user</c> tells whether its CAP_NET_RAW or CAP_NET_ADMIN counts here.
    /// </summary>
    public IReadOnlyList<ulong> ReadOwningUserNamespaces()
    {
        var inodes = new List<ulong>(2);
        bool added = false;
        DangerousAddRef(ref added);
        try
        {
            int fd = ioctl((int)handle, NsGetUserNs, null);
            if (fd < 0)
                throw new ErrnoException($"ioctl(NS_GET_USERNS) on {Path}", errno);
            while (fd >= 0)
            {
                stat info;
                int error = fstat(fd, &info) < 0 ? errno : 0;
                int parent = error == 0 ? ioctl(fd, NsGetParent, null) : -1;
                int parentError = errno;
                close(fd);
                if (error != 0)
                    throw new ErrnoException("fstat(user namespace)", error);
                inodes.Add((ulong)info.st_ino);
                if (parent < 0 && parentError != EPERM)
                    throw new ErrnoException("ioctl(NS_GET_PARENT)", parentError);
                fd = parent;
            }
            return inodes;
        }
        finally
        {
            if (added)
                DangerousRelease();
        }
    }

    /// <summary>Opens the namespace of the calling process.</summary>
    public static NetworkNamespaceHandle OpenCurrent() => Open("/proc/self/ns/net");

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => close((int)handle) == 0;
}
