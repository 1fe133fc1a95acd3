using System.Runtime.ExceptionServices;
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

    /// <summary>
    /// Like <see cref="Run{T}(string, Func{T})"/>, without blocking the caller: a thread of the caller's namespace
    /// completes the task once the short-lived namespace thread has ended.
    /// </summary>
    public static Task<T> RunAsync<T>(string path, Func<T> action)
    {
        var handle = NetworkNamespaceHandle.Open(path);
        var task = RunAsync(handle, action);
        task.ContinueWith(static (_, h) => ((NetworkNamespaceHandle)h!).Dispose(), handle,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return task;
    }

    /// <summary>Like <see cref="RunAsync{T}(string, Func{T})"/>, but joins the namespace already open in <paramref name="handle"/>.</summary>
    public static Task<T> RunAsync<T>(NetworkNamespaceHandle handle, Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(handle);
        // The namespace thread must not complete the task: completing queues the continuations, and the thread pool
        // creates a worker on the thread that queues, and a new thread is born in its creator's namespace, for good.
        // So a thread of the caller's namespace waits for the namespace thread to end and completes the task.
        return Task.Factory.StartNew(() => Run(handle, action), CancellationToken.None,
            TaskCreationOptions.LongRunning | TaskCreationOptions.RunContinuationsAsynchronously, TaskScheduler.Default);
    }

    private static T RunOnThread<T>(string name, Action enter, Func<T> action)
    {
        T? result = default;
        ExceptionDispatchInfo? failure = null;
        var thread = StartThread(name, () =>
        {
            try
            {
                enter();
                result = action();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        });
        thread.Join();
        failure?.Throw(); // keeps the stack trace of the namespace thread
        return result!;
    }

    private static Thread StartThread(string name, ThreadStart body)
    {
        var thread = new Thread(body, maxStackSize: 256 * 1024) { IsBackground = true, Name = name };
        thread.Start();
        return thread;
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
