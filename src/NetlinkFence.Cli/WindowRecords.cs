using NetlinkFence.Interop;
using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Snapshots;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// The window log, <c>netns-DEV-INO.TABLE.windows</c> in the state directory: one line per change to a window, with
/// the time and the uid that asked, so an auditor can tell when an update window let traffic through. Besides each
/// <c>open</c> and <c>close</c> (<see cref="KernelWindowControl"/>), the changes nobody asked for by name: an
/// <c>apply</c> closes every open window (it replaces the table), a <c>remove</c> closes them with the table, a daemon's
/// reload may close or shorten one (<see cref="Daemon.ReloadedWindows"/>), and a rollback puts back those it had, for the
/// time they have left.
/// </summary>
internal static class WindowRecords
{
    /// <summary>Appends one line (and says it on stderr, after <paramref name="logPrefix"/>).</summary>
    public static void Append(TargetNamespace target, string table, uint uid, string verb, string entry, string detail, string logPrefix = "netlinkfence")
    {
        var record = new WindowRecord(DateTimeOffset.UtcNow, uid, verb, entry, detail);
        Console.Error.WriteLine($"{logPrefix}: {record.Summary}");
        var state = new SafetyState(target, table);
        using var directory = StateDirectory.Open(SafetyState.Directory);
        directory.Append(Path.GetFileName(state.WindowLogPath), record.LogLine(table, target) + "\n");
    }

    /// <summary>Each window the table <paramref name="result"/> replaced held open: closed by this apply.</summary>
    public static void RecordApply(CompiledPolicy compiled, ApplyResult result, TargetNamespace target, string policyPath)
    {
        if (result.Previous is not { } replaced || compiled.Source.Policy.Egress.All(e => e.Window is null))
            return;
        foreach (var window in LivePolicy.Windows(compiled.Source, replaced).Where(w => w.IsOpen))
            Append(target, compiled.Table.Name, DirectoryHandle.EffectiveUserId, "close", window.Entry.Name,
                $"closed by apply, which replaces the table (it had {Seconds(window.Remaining!.Value)} left); "
                + $"'{SuggestedCommand.OpenWindow(window.Entry.Name, policyPath, target.Netns)}' opens it again");
    }

    /// <summary>
    /// What a rollback of <paramref name="snapshot"/> (<paramref name="how"/>) did to the windows, recorded once it
    /// restored (the delegate takes the uid and the table it replaced): those open in the replaced table that it does not
    /// put back are closed (opened after the apply it undoes), and those it puts back open (the timed elements with a
    /// comment: a window's, or a destination added with a timeout; each entry once) are reopened for the time they have
    /// left. Read just before the restore: an element whose time runs out in between is named and already closed again.
    /// </summary>
    public static Action<uint, TableContents?> RestoredOpen(SafetyState state, TableSnapshot snapshot, string how)
    {
        var open = snapshot.ContentsNow() is { } contents ? OpenIn(contents) : [];
        return (uid, replaced) =>
        {
            foreach (var (entry, left) in replaced is null ? [] : OpenIn(replaced))
                if (!open.ContainsKey(entry))
                    Append(state.Target, state.Table, uid, "close", entry, $"closed: the table {how} restored does not have it open (it had {Seconds(left)} left)");
            foreach (var (entry, left) in open)
                Append(state.Target, state.Table, uid, "reopen", entry, $"back with the table {how} restored, for the {Seconds(left)} it had left");
        };
    }

    /// <summary>
    /// The entries <paramref name="contents"/> holds timed elements of (a window's, or destinations added with a
    /// timeout; a followed name's carry no entry), each with the longest time left, as listed.
    /// </summary>
    public static Dictionary<string, TimeSpan> OpenIn(TableContents contents)
    {
        var open = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var set in contents.Sets)
            foreach (var element in set.Elements)
                if (element is { Comment: { } entry, Expiration: { } left } && (!open.TryGetValue(entry, out var longest) || left > longest))
                    open[entry] = left;
        return open;
    }

    /// <summary>A time left as the log says it, in whole seconds (at least 1s: it was open).</summary>
    public static string Seconds(TimeSpan span) => WindowDuration.Format(TimeSpan.FromSeconds(Math.Max(1, Math.Round(span.TotalSeconds))));
}
