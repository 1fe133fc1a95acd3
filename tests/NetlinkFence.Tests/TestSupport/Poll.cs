using System.Diagnostics;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>Waiting for something the kernel or another process does, with margins a loaded 2-core CI machine needs.</summary>
internal static class Poll
{
    /// <summary>
    /// True as soon as <paramref name="condition"/> holds, checked every <paramref name="everyMilliseconds"/>; after
    /// <paramref name="seconds"/>, whether it holds then.
    /// </summary>
    public static bool Until(Func<bool> condition, double seconds, int everyMilliseconds = 100)
    {
        var elapsed = Stopwatch.StartNew();
        while (elapsed.Elapsed.TotalSeconds < seconds)
        {
            if (condition())
                return true;
            Thread.Sleep(everyMilliseconds);
        }
        return condition();
    }
}
