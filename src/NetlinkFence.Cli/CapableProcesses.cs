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

/// <summary>
/// What <c>status</c> says of the namespace's capable processes: who can get around the table with packet sockets
/// (CAP_NET_RAW) and who can change the network and its tables (CAP_NET_ADMIN), the daemon named as such.
/// </summary>
internal sealed record CapabilityReport(IReadOnlyList<CapableProcess> Processes, int Unreadable, TableHolder Holder)
{
    /// <summary>How many processes a text line names before "and N more".</summary>
    private const int Named = 8;

    public IEnumerable<string> Lines()
    {
        if (Unreadable > 0)
            yield return $"capabilities: {(Unreadable == 1 ? "1 process" : $"{Unreadable} processes")} could not be read (reading another user's or a more capable "
                + "process's namespaces takes CAP_SYS_PTRACE), so the two lines below may leave some out: run status as root with every capability";
        var raw = Processes.Where(p => p.NetRaw).ToList();
        yield return raw.Count == 0
            ? "packet sockets: no process here holds CAP_NET_RAW, so none can send or receive around the table through packet sockets (AF_PACKET)"
            : $"packet sockets: {Count(raw)} here hold{(raw.Count == 1 ? "s" : "")} CAP_NET_RAW and can send and receive around the table through packet sockets "
                + $"(AF_PACKET), which no nftables table sees: {List(raw)}; drop CAP_NET_RAW where it is not needed "
                + "(docker run --cap-drop NET_RAW; systemd CapabilityBoundingSet=~CAP_NET_RAW)";
        // The daemon that holds the table needs CAP_NET_ADMIN: named apart, when it runs in this namespace.
        bool daemonHere = Processes.Any(IsDaemon);
        var admin = Processes.Where(p => p.NetAdmin && !IsDaemon(p)).ToList();
        string what = Holder.Owned ? "routes, interfaces and firewall tables (not this one while its owner holds it)" : "routes, interfaces and firewall tables, this one included";
        yield return admin.Count == 0
            ? $"network administration: no process here{(daemonHere ? " but the daemon" : "")} holds CAP_NET_ADMIN"
            : $"network administration: {Count(admin)}{(daemonHere ? " besides the daemon" : "")} here hold{(admin.Count == 1 ? "s" : "")} CAP_NET_ADMIN and can change {what}: {List(admin)}";
    }

    /// <summary><c>capable_processes</c> of <c>status --output json</c>: every one, not only the first few.</summary>
    public void Write(System.Text.Json.Utf8JsonWriter w)
    {
        w.WriteNumber("unreadable_processes", Unreadable);
        w.WriteStartArray("capable_processes");
        foreach (var process in Processes)
        {
            w.WriteStartObject();
            w.WriteNumber("pid", process.Pid);
            w.WriteString("command", process.Command);
            w.WriteNumber("uid", process.Uid);
            w.WriteBoolean("cap_net_raw", process.NetRaw);
            w.WriteBoolean("cap_net_admin", process.NetAdmin);
            w.WriteBoolean("daemon", IsDaemon(process));
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private bool IsDaemon(CapableProcess process) => Holder.Daemon?.Pid is { } pid && process.Pid == pid;

    private static string Count(List<CapableProcess> processes) => processes.Count == 1 ? "1 process" : $"{processes.Count} processes";

    private static string List(List<CapableProcess> processes) =>
        string.Join(", ", processes.Take(Named).Select(p => p.Describe()))
        + (processes.Count > Named ? $" and {processes.Count - Named} more (--output json lists them all)" : "");
}
