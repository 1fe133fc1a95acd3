using System.Globalization;
using System.Text;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>A rollback that waits for <c>netlinkfence confirm</c>: who waits (token) and until when.</summary>
/// <param name="Token">Identifies the waiter that owns it; a newer apply replaces it, and the old waiter then gives up.</param>
/// <param name="Deadline">When the waiter restores the saved table unless confirmed.</param>
internal sealed record PendingConfirm(string Token, DateTimeOffset Deadline);

/// <summary>
/// The state behind confirm and rollback, under <c>/run/netlinkfence</c> (tmpfs: gone after a reboot, as is the
/// ruleset), one set of files per namespace and table, e.g. <c>netns-agent.netlinkfence.snapshot</c>:
/// <list type="bullet">
/// <item><c>.snapshot</c>: the table as it was before the last confirmed apply (what rollback restores);</item>
/// <item><c>.pending</c>: a rollback waiting for confirm (token and deadline);</item>
/// <item><c>.lock</c>: held while any of them is read or changed, and while a rollback commits;</item>
/// <item><c>.log</c>: what the detached waiter did (it has no terminal).</item>
/// </list>
/// </summary>
internal sealed class SafetyState
{
    /// <summary>The state directory; <c>NETLINKFENCE_STATE_DIR</c> overrides it (tests).</summary>
    public static string Directory => Environment.GetEnvironmentVariable("NETLINKFENCE_STATE_DIR") is { Length: > 0 } d ? d : "/run/netlinkfence";

    public SafetyState(string? netns, string table)
    {
        Netns = netns;
        Table = table;
        string scope = netns is null ? "host" : "netns-" + Sanitize(netns);
        string stem = Path.Combine(Directory, scope + "." + Sanitize(table));
        SnapshotPath = stem + ".snapshot";
        PendingPath = stem + ".pending";
        LockPath = stem + ".lock";
        LogPath = stem + ".log";
    }

    public string? Netns { get; }

    public string Table { get; }

    public string SnapshotPath { get; }

    public string PendingPath { get; }

    public string LockPath { get; }

    public string LogPath { get; }

    /// <summary>Takes the state's lock (waits up to 30 s for another netlinkfence to release it).</summary>
    public async Task<IDisposable> LockAsync(CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < 1500; attempt++)
        {
            // An exclusive flock: held until disposed, released if the process dies.
            using (var directory = StateDirectory.Open(Directory))
            {
                if (directory.TryLock(Path.GetFileName(LockPath)) is { } held)
                    return held;
            }
            await Task.Delay(20, cancellationToken);
        }
        throw new StateFileException($"another netlinkfence has held {LockPath} for 30 s; try again, or look for a hung netlinkfence process");
    }

    public PendingConfirm? ReadPending()
    {
        using var directory = StateDirectory.Open(Directory);
        if (directory.Read(Path.GetFileName(PendingPath)) is not { } bytes)
            return null;
        var lines = Encoding.UTF8.GetString(bytes).Split('\n');
        return lines.Length >= 2 && long.TryParse(lines[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long ms)
            ? new PendingConfirm(lines[0], DateTimeOffset.FromUnixTimeMilliseconds(ms))
            : null;
    }

    public void WritePending(PendingConfirm pending) =>
        WriteAtomically(PendingPath, Encoding.UTF8.GetBytes($"{pending.Token}\n{pending.Deadline.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}\n"));

    public void DeletePending()
    {
        using var directory = StateDirectory.Open(Directory);
        directory.Delete(Path.GetFileName(PendingPath));
    }

    /// <summary>The saved table, or null when none is saved; a snapshot that does not verify is an error, never "no table".</summary>
    public TableSnapshot? ReadSnapshot()
    {
        using var directory = StateDirectory.Open(Directory);
        if (directory.Read(Path.GetFileName(SnapshotPath)) is not { } bytes)
            return null;
        try
        {
            var snapshot = TableSnapshot.Deserialize(bytes);
            return snapshot.Name == Table
                ? snapshot
                : throw new StateFileException($"{SnapshotPath} holds table {snapshot.Name}, not {Table}; nothing was restored. Remove it (the next apply saves a new one)");
        }
        catch (SnapshotCorruptException e)
        {
            throw new StateFileException($"{SnapshotPath} cannot be restored: {e.Message}. Nothing was restored and the live table was left as it is; "
                + "remove the file (the next apply saves a new one) and, if needed, apply the policy you want", e);
        }
    }

    public void WriteSnapshot(TableSnapshot snapshot) => WriteAtomically(SnapshotPath, snapshot.Serialize());

    public void DeleteSnapshot()
    {
        using var directory = StateDirectory.Open(Directory);
        directory.Delete(Path.GetFileName(SnapshotPath));
    }

    public void Log(string line)
    {
        try
        {
            using var directory = StateDirectory.Open(Directory);
            directory.Append(Path.GetFileName(LogPath), $"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} [{Environment.ProcessId}] {line}\n");
        }
        catch (Exception e) when (e is StateFileException or IOException)
        {
            // The log is a courtesy; never let it stop a rollback.
        }
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        using var directory = StateDirectory.Open(Directory);
        directory.WriteAtomically(Path.GetFileName(path), bytes);
    }

    private static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (char c in name)
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        return builder.ToString();
    }
}
