using System.Text.Json;

namespace NetlinkFence.Cli;

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
    public void Write(Utf8JsonWriter w)
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
