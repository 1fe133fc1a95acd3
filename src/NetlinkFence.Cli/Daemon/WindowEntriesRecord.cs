using System.Globalization;
using System.Text;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// Which entries were window entries in the policy the daemon runs, for the table it made, keyed on the table's kernel
/// handle (a new one each time the table is created). The record is the namespace's state: <see cref="SafetyState.Claim"/>,
/// which the daemon calls before reading it, discards one a vanished namespace with the same inode left (handles are
/// counted per namespace, so its first table had the same one). A start carries only the windows of entries that were
/// windows in that policy too: a permanent entry that follows DNS names holds timed addresses, which look like an open
/// window, and an edit that made it a window entry must leave it closed, as a reload does. Without a record of this
/// very table (another process replaced it since, or no daemon ran), every open-looking window entry is taken as open.
/// </summary>
internal static class WindowEntriesRecord
{
    /// <summary>Records <paramref name="policy"/>'s window entries for the table of handle <paramref name="tableHandle"/>.</summary>
    public static void Write(SafetyState state, ulong tableHandle, EgressPolicy policy)
    {
        var text = new StringBuilder().Append(tableHandle.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var entry in policy.Egress.Where(e => e.Window is not null))
            text.Append(entry.Name).Append('\n'); // entry names are one line (EntryNames)
        using var directory = StateDirectory.Open(SafetyState.Directory);
        directory.WriteAtomically(Path.GetFileName(state.WindowEntriesPath), Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>The window entries recorded for the table of handle <paramref name="tableHandle"/>; null when none are.</summary>
    public static IReadOnlySet<string>? Read(SafetyState state, ulong tableHandle)
    {
        using var directory = StateDirectory.Open(SafetyState.Directory);
        if (directory.Read(Path.GetFileName(state.WindowEntriesPath)) is not { } bytes)
            return null;
        var lines = Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length > 0 && ulong.TryParse(lines[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong handle) && handle == tableHandle
            ? lines.Skip(1).ToHashSet(StringComparer.Ordinal)
            : null;
    }
}
