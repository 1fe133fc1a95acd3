using System.Globalization;

namespace NetlinkFence.Cli;

/// <summary>
/// A process as pid plus start time (field 22 of <c>/proc/PID/stat</c>, clock ticks since boot): a pid the kernel
/// has handed to a new process since no longer matches, so "is the rollback waiter still running" is answered truly.
/// </summary>
internal readonly record struct ProcessIdentity(int Pid, ulong StartTime)
{
    public static ProcessIdentity? Of(int pid)
    {
        var fields = StatFields(pid);
        return fields is not null && ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out ulong start)
            ? new ProcessIdentity(pid, start)
            : null;
    }

    /// <summary>Whether this very process still runs (a zombie, killed and not yet reaped, does not).</summary>
    public bool IsAlive => StatFields(Pid) is { } fields && fields[0] is not ("Z" or "X")
        && ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out ulong start) && start == StartTime;

    public override string ToString() => $"{Pid.ToString(CultureInfo.InvariantCulture)}@{StartTime.ToString(CultureInfo.InvariantCulture)}";

    public static ProcessIdentity? Parse(string text)
    {
        int at = text.IndexOf('@');
        return at > 0 && int.TryParse(text.AsSpan(0, at), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
            && ulong.TryParse(text.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out ulong start)
            ? new ProcessIdentity(pid, start)
            : null;
    }

    /// <summary>The fields after the command name (which may contain spaces and parentheses): [0] is field 3, the state.</summary>
    private static string[]? StatFields(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        int end = text.LastIndexOf(')');
        var fields = end < 0 ? [] : text[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 19 ? fields : null;
    }
}
