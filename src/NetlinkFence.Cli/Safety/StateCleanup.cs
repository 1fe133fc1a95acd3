using System.Globalization;
using NetlinkFence.Interop;

namespace NetlinkFence.Cli;

/// <summary>
/// Removes the rollback state of namespaces that no longer exist. A network namespace lives while something holds it:
/// a process in it (<c>/proc/PID/ns/net</c>), an open file descriptor (<c>/proc/PID/fd/N</c>, e.g. a waiter's handle),
/// or a bind mount (<c>/run/netns/NAME</c>, or elsewhere: <c>/proc/self/mountinfo</c>). State whose namespace inode
/// none of these shows is unreachable (nothing can enter that namespace again) and is deleted, so the kernel handing
/// the inode to a new namespace later does not hand it that state as well. Sockets alone can keep a namespace alive
/// unseen, but nothing can enter it then either.
/// </summary>
internal static class StateCleanup
{
    public static void RemoveVanished(SafetyState current)
    {
        try
        {
            var stale = System.IO.Directory.EnumerateFiles(SafetyState.Directory, SafetyState.ScopePrefix + "*")
                .Select(path => (Path: path, Inode: InodeOf(Path.GetFileName(path))))
                .Where(f => f.Inode is not null && f.Inode != current.Target.Handle.Inode)
                .ToList();
            if (stale.Count == 0)
                return;
            var live = LiveNamespaceInodes([.. stale.Select(f => f.Inode!.Value)]);
            using var directory = StateDirectory.Open(SafetyState.Directory);
            foreach (var (path, _) in stale.Where(f => !live.Contains(f.Inode!.Value)))
                directory.Delete(Path.GetFileName(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or StateFileException)
        {
            // A courtesy: never let it stop the command.
        }
    }

    /// <summary>The inode in <c>netns-DEVICE-INODE.TABLE...</c>.</summary>
    private static ulong? InodeOf(string fileName)
    {
        var parts = fileName[SafetyState.ScopePrefix.Length..].Split('.', 2)[0].Split('-');
        return parts.Length == 2 && ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode) ? inode : null;
    }

    /// <summary>
    /// Which of <paramref name="candidates"/> are live namespaces. The cheap places (bind mounts, /run/netns) are looked
    /// at first, and the walk over every process's namespace and open files stops once every candidate is found:
    /// only a namespace that really vanished costs the whole walk (a few thousand readlinks on a busy host, each
    /// one syscall: no stat of the link or its target).
    /// </summary>
    private static HashSet<ulong> LiveNamespaceInodes(HashSet<ulong> candidates)
    {
        var live = new HashSet<ulong>();
        // Bind mounts of namespace files (ip netns, docker): field 4 of mountinfo is the mount's root, "net:[INODE]".
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            if (fields.Length > 3)
                AddTarget(live, fields[3]);
        }
        // And /run/netns directly, in case it is mounted in a way mountinfo does not show as above.
        if (System.IO.Directory.Exists("/run/netns"))
        {
            foreach (string path in System.IO.Directory.EnumerateFiles("/run/netns"))
            {
                try
                {
                    using var handle = NetworkNamespaceHandle.Open(path);
                    live.Add(handle.Inode);
                }
                catch (Exception e) when (e is ErrnoException or InvalidInputException)
                {
                }
            }
        }
        if (candidates.IsSubsetOf(live))
            return live;
        // One readlink per entry (LinkListing): .NET's enumerations would stat and lstat every link as well.
        foreach (string process in LinkListing.Names("/proc"))
        {
            if (!int.TryParse(process, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                continue;
            string directory = "/proc/" + process;
            AddLink(live, directory + "/ns/net");
            foreach (string fd in LinkListing.Names(directory + "/fd")) // empty when the process ended meanwhile
                AddLink(live, directory + "/fd/" + fd);
            if (candidates.IsSubsetOf(live))
                break;
        }
        return live;
    }

    private static void AddLink(HashSet<ulong> live, string path)
    {
        if (LinkListing.Target(path) is { } target)
            AddTarget(live, target);
    }

    private static void AddTarget(HashSet<ulong> live, string target)
    {
        if (target.StartsWith("net:[", StringComparison.Ordinal) && target.EndsWith(']')
            && ulong.TryParse(target.AsSpan(5, target.Length - 6), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
            live.Add(inode);
    }
}
