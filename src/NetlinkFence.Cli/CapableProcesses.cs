using System.Globalization;
using NetlinkFence.Interop;

namespace NetlinkFence.Cli;

/// <summary>
/// A process of the guarded namespace that holds CAP_NET_RAW or CAP_NET_ADMIN there: <paramref name="NetRaw"/> can
/// send and receive through packet sockets (AF_PACKET), which the inet hooks of any nftables table never see;
/// <paramref name="NetAdmin"/> can change routes, interfaces and (unless a daemon owns it) the table.
/// </summary>
internal sealed record CapableProcess(int Pid, string Command, uint Uid, bool NetRaw, bool NetAdmin)
{
    public string Describe() => $"{Command} (pid {Pid}, uid {Uid})";
}

/// <summary>
/// Finds the processes of a network namespace whose effective capabilities count there: from <c>/proc</c>, each
/// process whose <c>ns/net</c> is the namespace and whose <c>ns/user</c> owns it (or is an ancestor of its owner),
/// with CAP_NET_RAW or CAP_NET_ADMIN in <c>CapEff</c>. Kernel threads and this process are left out. A process that
/// ends while it is read is skipped. What it does not see: a process of another PID namespace, and a process whose
/// user created the owning user namespace (it has every capability there without showing it in CapEff). Reading
/// another process's namespaces takes what ptrace's read check asks (root with CAP_SYS_PTRACE, or the same user
/// with no more capabilities than this process): the processes it refuses are counted, never taken as harmless.
/// </summary>
internal static class CapableProcesses
{
    private const int CapNetAdmin = 12, CapNetRaw = 13;
    private const uint KernelThreadFlag = 0x00200000; // PF_KTHREAD, in the flags field of /proc/PID/stat

    /// <summary>The capable processes of <paramref name="network"/>, and how many processes could not be read (EACCES).</summary>
    public static (IReadOnlyList<CapableProcess> Processes, int Unreadable) In(NetworkNamespaceHandle network)
    {
        var owners = network.ReadOwningUserNamespaces().ToHashSet();
        string netLink = $"net:[{network.Inode}]";
        var found = new List<CapableProcess>();
        int unreadable = 0;
        foreach (string name in LinkListing.Names("/proc"))
        {
            if (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid == Environment.ProcessId)
                continue;
            try
            {
                if (Read(pid, owners, netLink) is { } process)
                    found.Add(process);
            }
            catch (UnauthorizedAccessException)
            {
                unreadable++;
            }
            catch (IOException)
            {
                // The process ended meanwhile: nothing to report of it.
            }
        }
        return (found, unreadable);
    }

    private static CapableProcess? Read(int pid, HashSet<ulong> owners, string netLink)
    {
        if (Link($"/proc/{pid}/ns/net") != netLink)
            return null;
        if (Inode(Link($"/proc/{pid}/ns/user")) is not { } user || !owners.Contains(user))
            return null;
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        // pid (comm) state ppid pgrp session tty_nr tpgid flags ...: comm may hold spaces and ')', so count from the last ')'.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        if (fields.Length > 6 && uint.TryParse(fields[6], NumberStyles.None, CultureInfo.InvariantCulture, out uint flags) && (flags & KernelThreadFlag) != 0)
            return null;
        string? command = null, capabilities = null;
        uint uid = 0;
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("Name:", StringComparison.Ordinal))
                command = line[5..].Trim();
            else if (line.StartsWith("Uid:", StringComparison.Ordinal))
                uid = uint.Parse(line[4..].Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            else if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                capabilities = line[7..].Trim();
        }
        if (command is null || capabilities is null || !ulong.TryParse(capabilities, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong effective))
            return null;
        bool raw = (effective & (1UL << CapNetRaw)) != 0, admin = (effective & (1UL << CapNetAdmin)) != 0;
        return raw || admin ? new CapableProcess(pid, Printable(command), uid, raw, admin) : null;
    }

    /// <summary>A namespace link's text; EACCES (ptrace's read check refused us) as <see cref="UnauthorizedAccessException"/>, anything else (gone) as <see cref="IOException"/>.</summary>
    private static string Link(string path) =>
        LinkListing.Target(path, out int error) ?? throw (error == (int)NetlinkFence.Interop.Uapi.Errno.ACCES
            ? new UnauthorizedAccessException($"readlink({path}): EACCES")
            : new IOException($"readlink({path}): errno {error}"));

    /// <summary>The inode of a namespace link's text, <c>user:[4026531837]</c>.</summary>
    private static ulong? Inode(string? link) =>
        link is not null && link.IndexOf('[') is >= 0 and var open && link.EndsWith(']')
        && ulong.TryParse(link.AsSpan(open + 1, link.Length - open - 2), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode) ? inode : null;

    /// <summary>A command name as the kernel keeps it (any bytes but NUL, up to 15): safe to print.</summary>
    private static string Printable(string command) =>
        string.Concat(command.Select(c => c is >= ' ' and <= '~' ? c : '?'));
}
