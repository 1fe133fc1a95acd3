using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace NetlinkFence.Interop;

/// <summary>Runs code inside another network namespace on a dedicated, short-lived thread.</summary>
public static unsafe class NetworkNamespace
{
    /// <summary>
    /// Runs <paramref name="action"/> on a new thread that first joins the network namespace at
    /// <paramref name="path"/> (<c>/run/netns/NAME</c> or <c>/proc/PID/ns/net</c>). The thread ends afterwards,
    /// so the namespace change never leaks into the thread pool. Sockets created there stay in that namespace.
    /// </summary>
    public static T Run<T>(string path, Func<T> action)
    {
        using var handle = NetworkNamespaceHandle.Open(path);
        return Run(handle, action);
    }

    /// <summary>Like <see cref="Run{T}(string, Func{T})"/>, but joins the namespace already open in <paramref name="handle"/>.</summary>
    public static T Run<T>(NetworkNamespaceHandle handle, Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return RunOnThread("netns " + handle.Path, () => Enter(handle), action);
    }

    private static T RunOnThread<T>(string name, Action enter, Func<T> action)
    {
        T? result = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                enter();
                result = action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        }, maxStackSize: 256 * 1024)
        { IsBackground = true, Name = name };
        thread.Start();
        thread.Join();
        if (failure is not null)
            throw failure;
        return result!;
    }

    private static void Enter(NetworkNamespaceHandle handle)
    {
        // Already there (the caller's own namespace, e.g. the host's): setns would need CAP_SYS_ADMIN for nothing,
        // and a process with CAP_NET_ADMIN alone (a container with --cap-add NET_ADMIN) must still work.
        if (IsCurrentThreadIn(handle))
            return;
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            if (setns(handle.FileDescriptor, CLONE_NEWNET) < 0)
                throw new ErrnoException($"setns({handle.Path}, CLONE_NEWNET)", errno);
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    private static bool IsCurrentThreadIn(NetworkNamespaceHandle handle)
    {
        stat current;
        fixed (byte* p = "/proc/thread-self/ns/net\0"u8)
        {
            if (stat(p, &current) < 0)
                return false;
        }
        return (ulong)current.st_dev == handle.Device && (ulong)current.st_ino == handle.Inode;
    }
}
