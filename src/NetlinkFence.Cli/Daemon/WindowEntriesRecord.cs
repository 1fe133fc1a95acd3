using System.Globalization;
using System.Text;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// Which entries were window entries in the policy the daemon runs, for the table it made: keyed on the namespace's
/// cookie (never re-used, unlike its inode, which names the state files) and the table's kernel handle (a new one
/// each time the table is created, but counted per namespace: a later namespace's first table has the same). A start
/// carries only the windows of entries that were windows in that policy too: a permanent entry that follows DNS names
/// holds timed addresses, which look like an open window, and an edit that made it a window entry must leave it
/// closed, as a reload does. Without a record of this very table (another process replaced it since, no daemon ran,
/// or the kernel gives no namespace cookie), every open-looking window entry is taken as open.
/// </summary>
internal static class WindowEntriesRecord
{
    /// <summary>Records <paramref name="policy"/>'s window entries for the table of handle <paramref name="tableHandle"/>.</summary>
    public static void Write(SafetyState state, ulong tableHandle, EgressPolicy policy)
    {
        if (Key(state, tableHandle) is not { } key)
            return;
        var text = new StringBuilder(key).Append('\n');
        foreach (var entry in policy.Egress.Where(e => e.Window is not null))
            text.Append(entry.Name).Append('\n'); // entry names are one line (EntryNames)
        using var directory = StateDirectory.Open(SafetyState.Directory);
        directory.WriteAtomically(Path.GetFileName(state.WindowEntriesPath), Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>The window entries recorded for the table of handle <paramref name="tableHandle"/> in this namespace; null when none are.</summary>
    public static IReadOnlySet<string>? Read(SafetyState state, ulong tableHandle)
    {
        if (Key(state, tableHandle) is not { } key)
            return null;
        using var directory = StateDirectory.Open(SafetyState.Directory);
        if (directory.Read(Path.GetFileName(state.WindowEntriesPath)) is not { } bytes)
            return null;
        var lines = Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length > 0 && lines[0] == key ? lines.Skip(1).ToHashSet(StringComparer.Ordinal) : null;
    }

    /// <summary><c>netns COOKIE table HANDLE</c>; null when the kernel gives no namespace cookie (before Linux 5.14).</summary>
    private static string? Key(SafetyState state, ulong tableHandle) =>
        state.Target.Handle.ReadCookie() is { } cookie
            ? string.Create(CultureInfo.InvariantCulture, $"netns {cookie} table {tableHandle}")
            : null;
}
