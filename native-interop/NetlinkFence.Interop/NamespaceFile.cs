namespace NetlinkFence.Interop;

/// <summary>Checks a path given as a network namespace before anything tries to enter it.</summary>
public static class NamespaceFile
{
    /// <summary>
    /// Throws <see cref="InvalidInputException"/> with a plain message when <paramref name="path"/> exists but is not a
    /// network namespace file (<c>/run/netns/NAME</c>, <c>/proc/PID/ns/net</c>); returns true when it is the initial
    /// network namespace (see <see cref="NetworkNamespaceHandle.IsInitial"/>). A path that does not exist returns
    /// false: entering it fails later with ENOENT, which callers already report.
    /// </summary>
    public static bool CheckNetwork(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var handle = NetworkNamespaceHandle.Open(path);
            return handle.IsInitial;
        }
        catch (ErrnoException e) when (e.Errno == Tmds.Linux.LibC.ENOENT || e.Errno == Tmds.Linux.LibC.ENOTDIR)
        {
            return false;
        }
    }
}
