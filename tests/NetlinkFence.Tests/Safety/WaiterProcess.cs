using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Safety;

/// <summary>Finds the detached rollback waiter of a namespace, to signal it, and reads what it logged.</summary>
internal static class WaiterProcess
{
    public static string StateDirectory => Environment.GetEnvironmentVariable("NETLINKFENCE_STATE_DIR") is { Length: > 0 } d ? d : "/run/netlinkfence";

    /// <summary>The namespace file's DEVICE:INODE, as the CLI identifies it.</summary>
    public static string Identity(TestNamespace ns) => TestNamespace.Run("stat", $"-L -c %d:%i {ns.Path}").Trim();

    /// <summary>
    /// The pid of the rollback waiter working on <paramref name="ns"/>: a process running the hidden verb whose
    /// command line names the namespace (by name, or by the identity it is checked against). Null when there is none.
    /// </summary>
    public static int? Find(TestNamespace ns)
    {
        string id = Identity(ns);
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
                continue;
            string[] args;
            try
            {
                args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
            }
            catch (IOException)
            {
                continue;
            }
            if (args.Contains("rollback-waiter") && (args.Contains(ns.Name) || args.Contains(id)) && !IsZombie(pid))
                return pid;
        }
        return null;
    }

    public static int WaitFor(TestNamespace ns)
    {
        for (int i = 0; i < 100; i++)
        {
            if (Find(ns) is { } pid)
                return pid;
            Thread.Sleep(50);
        }
        throw new InvalidOperationException($"no rollback waiter for {ns.Name}");
    }

    public static void Signal(int pid, string signal) => TestNamespace.Run("kill", $"-{signal} {pid}");

    /// <summary>Waits (up to <paramref name="seconds"/>) until the process has ended.</summary>
    public static bool Ended(int pid, double seconds = 15)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < until)
        {
            if (!Directory.Exists($"/proc/{pid}") || IsZombie(pid))
                return true;
            Thread.Sleep(50);
        }
        return false;
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }
}
