using System.Runtime.CompilerServices;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>
/// The suite keeps pool threads busy or blocked (floods in <c>Task.Run</c>, the world's listeners, the readers of the
/// processes' pipes). With the runtime's minimum, the core count (2 on CI), the pool adds threads only a few a second
/// once those are taken, so on a loaded runner a daemon's log line, a listener's greeting or a CLI's output waited
/// seconds for a thread, eating the timing margins of the tests that read them. A floor of 64 starts them at once.
/// </summary>
internal static class ThreadPoolFloor
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
    }
}
