using System.Net.Sockets;
using System.Text.Json;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// <c>apply</c>, <c>remove</c> or <c>rollback</c> of a table a running <c>netlinkfence run</c> holds: refused before
/// anything changes (exit 3). In owner mode the kernel would refuse each operation with EPERM; in watch mode it would
/// take the change and the daemon would undo it within a fraction of a second, so the verb would report a change that
/// did not last (a <c>remove</c> saying the host is unfiltered while the daemon puts the table back).
/// </summary>
internal sealed class HeldByDaemonException(string message, Exception? kernelRefusal = null) : Exception(message, kernelRefusal)
{
    /// <summary>
    /// Throws when a daemon answers on the control socket of <paramref name="table"/> in <paramref name="target"/>;
    /// <paramref name="verb"/> (apply, remove or rollback) is what the message says to do instead, and
    /// <paramref name="kernelRefusal"/> the kernel's EPERM when this is asked after it (a daemon that started meanwhile).
    /// </summary>
    public static async Task ThrowIfHeldAsync(TargetNamespace target, string table, string verb, CancellationToken cancellationToken, Exception? kernelRefusal = null)
    {
        ControlResponse? status;
        try
        {
            status = await ControlClient.TryRequestAsync(target, table, new ControlRequest("status"), cancellationToken);
        }
        catch (Exception e) when (e is SocketException or IOException or JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return; // a socket nobody answers properly on: the kernel has the last word
        }
        if (status is { Ok: true })
            throw new HeldByDaemonException(Explain(status, table, target, verb), kernelRefusal);
    }

    private static string Explain(ControlResponse daemon, string table, TargetNamespace target, string verb)
    {
        string policy = daemon.Policy ?? PolicyTable.DefaultPolicyPath;
        string held = $"table inet {table} in {target.Description} is held by the running 'netlinkfence run' daemon (pid {daemon.Pid}, policy {policy}, "
            + (daemon.Mode == "watch" ? "watch mode: it would undo any other change at once" : "owner mode: the kernel lets only its socket change the table");
        string stop = StopCommand(daemon.Pid);
        return verb switch
        {
            "apply" => $"{held}). Edit {policy} and reload it ('{SuggestedCommand.OnPolicy("reload", policy, target.Netns, table: null)}'), "
                + $"or stop it first ('{stop}'); nothing was changed",
            "rollback" => $"{held}). Stop it first ('{stop}'; it leaves the table in place), then roll back; a daemon started again "
                + $"applies {policy} again; nothing was changed",
            _ => $"{held}). Stop it first ('{stop}'; it leaves the table in place), then {verb}; nothing was changed",
        };
    }

    /// <summary>
    /// How to stop the daemon: its netlinkfence unit when systemd runs it (read from its cgroup), else a SIGTERM to its
    /// pid; never another unit it happens to run under (a CI job's, a login session's).
    /// </summary>
    private static string StopCommand(int? pid)
    {
        try
        {
            if (pid is > 0 && File.ReadAllLines($"/proc/{pid}/cgroup").Select(line => line[(line.LastIndexOf('/') + 1)..])
                    .FirstOrDefault(unit => unit.StartsWith("netlinkfence", StringComparison.Ordinal) && unit.EndsWith(".service", StringComparison.Ordinal)) is { } unit)
                return $"systemctl stop {unit}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return pid is > 0 ? $"kill -TERM {pid}" : "stop the 'netlinkfence run' process";
    }
}
