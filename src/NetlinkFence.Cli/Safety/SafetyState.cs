using System.Globalization;
using System.Text;
using NetlinkFence.Nftables.Snapshots;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>A rollback that waits for <c>netlinkfence confirm</c>: who waits (token) and until when.</summary>
/// <param name="Token">Identifies the waiter that owns it; a newer apply replaces it, and the old waiter then gives up.</param>
/// <param name="Deadline">When the waiter restores the saved table unless confirmed.</param>
internal sealed record PendingConfirm(string Token, DateTimeOffset Deadline)
{
    /// <summary>
    /// The handle of the table the unconfirmed apply committed (a re-created table gets a new one); 0 until the apply
    /// has read it back. The waiter restores only over this table.
    /// </summary>
    public ulong TableHandle { get; init; }

    /// <summary>The handle of the table that apply replaced (0: there was none); tells, while <see cref="TableHandle"/> is 0, whether the commit happened.</summary>
    public ulong PreviousHandle { get; init; }

    /// <summary>The waiter process (null: not started yet).</summary>
    public ProcessIdentity? Waiter { get; init; }

    /// <summary>Whether the live table (its handle, 0: none) is the one this unconfirmed apply left there.</summary>
    public bool LeftThere(ulong liveHandle) => TableHandle != 0 ? liveHandle == TableHandle : liveHandle != PreviousHandle;
}

/// <summary>
/// The state behind confirm and rollback, under <c>/run/netlinkfence</c> (tmpfs: gone after a reboot, as is the
/// ruleset), one set of files per namespace and table, keyed on the namespace's identity (device and inode of its
/// nsfs file, the same for every name or path of it), e.g. <c>netns-4-4026532290.netlinkfence.snapshot</c>:
/// <list type="bullet">
/// <item><c>.snapshot</c>: the table as it was before the last confirmed apply (what rollback restores);</item>
/// <item><c>.pending</c>: a rollback waiting for confirm (token, deadline, the table it guards, the waiter's process);</item>
/// <item><c>.lock</c>: held while any of them is read or changed, and while a rollback commits;</item>
/// <item><c>.log</c>: what the detached waiter did (it has no terminal).</item>
/// </list>
/// </summary>
internal sealed class SafetyState
{
    /// <summary>The state directory; <c>NETLINKFENCE_STATE_DIR</c> overrides it (tests).</summary>
    public static string Directory => Environment.GetEnvironmentVariable("NETLINKFENCE_STATE_DIR") is { Length: > 0 } d ? d : "/run/netlinkfence";

    /// <summary>The prefix of every state file of one namespace.</summary>
    public const string ScopePrefix = "netns-";

    private readonly bool _createDirectory;

    /// <param name="target">The namespace the state belongs to.</param>
    /// <param name="table">The table the state belongs to.</param>
    /// <param name="createDirectory">
    /// False for the rollback waiter: a state directory that is gone (a tmpfs emptied, a test run's private directory
    /// removed) holds nothing of its own, and every use then fails with <see cref="StateFileException.DirectoryGone"/>
    /// instead of making the directory again.
    /// </param>
    public SafetyState(TargetNamespace target, string table, bool createDirectory = true)
    {
        _createDirectory = createDirectory;
        Target = target;
        Netns = target.Netns;
        Table = table;
        string scope = ScopePrefix + target.Handle.Device.ToString(CultureInfo.InvariantCulture) + "-" + target.Handle.Inode.ToString(CultureInfo.InvariantCulture);
        string stem = Path.Combine(Directory, scope + "." + Sanitize(table));
        SnapshotPath = stem + ".snapshot";
        PendingPath = stem + ".pending";
        LockPath = stem + ".lock";
        LogPath = stem + ".log";
        NamespacePath = stem + ".netns";
        WindowLogPath = stem + ".windows";
        WindowEntriesPath = stem + ".window-entries";
    }

    public TargetNamespace Target { get; }

    public string? Netns { get; }

    public string Table { get; }

    public string SnapshotPath { get; }

    public string PendingPath { get; }

    public string LockPath { get; }

    public string LogPath { get; }

    /// <summary>Every open and close of a window of this table (time, uid, entry, duration), one line each.</summary>
    public string WindowLogPath { get; }

    /// <summary>The daemon's record of which entries the running policy has as windows, for the table it made (see WindowEntriesRecord).</summary>
    public string WindowEntriesPath { get; }

    /// <summary>The cookie of the namespace the state belongs to (the inode in the name may be re-used by a later namespace).</summary>
    public string NamespacePath { get; }

    /// <summary>
    /// Under the lock: makes sure the state is this namespace's. State left by an earlier namespace that had the same
    /// inode (it is gone, and the kernel re-used its inode) is discarded, never applied here: its rollback state and
    /// the daemon's record of its window entries.
    /// </summary>
    public void Claim()
    {
        string cookie = Target.Handle.ReadCookie()?.ToString(CultureInfo.InvariantCulture) ?? "unknown";
        string? recorded, snapshot, pending;
        using (var directory = OpenDirectory())
        {
            recorded = directory.Read(Path.GetFileName(NamespacePath)) is { } bytes ? Encoding.UTF8.GetString(bytes).Trim() : null;
            snapshot = directory.Read(Path.GetFileName(SnapshotPath)) is null ? null : SnapshotPath;
            pending = directory.Read(Path.GetFileName(PendingPath)) is null ? null : PendingPath;
        }
        if (recorded == cookie)
            return;
        if (recorded is not null && (snapshot is not null || pending is not null))
        {
            Log($"discarded the rollback state of an earlier namespace that had the same inode (cookie {recorded}, this one is {cookie})");
            DeletePending();
            DeleteSnapshot();
        }
        // The daemon's window entries name a table by its handle, which a later namespace counts again from 1.
        using (var directory = OpenDirectory())
            directory.Delete(Path.GetFileName(WindowEntriesPath));
        WriteAtomically(NamespacePath, Encoding.UTF8.GetBytes(cookie + "\n"));
    }

    /// <summary>Takes the state's lock (waits up to 30 s for another netlinkfence to release it).</summary>
    public async Task<IDisposable> LockAsync(CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < 1500; attempt++)
        {
            // An exclusive flock: held until disposed, released if the process dies.
            using (var directory = OpenDirectory())
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
        using var directory = OpenDirectory();
        if (directory.Read(Path.GetFileName(PendingPath)) is not { } bytes)
            return null;
        var lines = Encoding.UTF8.GetString(bytes).Split('\n');
        if (lines.Length < 2 || !long.TryParse(lines[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long ms))
            throw new StateFileException($"{PendingPath} does not hold a pending confirmation (token and deadline); nothing was changed. "
                + "Remove it only if no 'apply --confirm-within' is waiting, then run the command again");
        var fields = lines.Skip(2).Select(l => l.Split('=', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);
        ulong Handle(string key) => fields.TryGetValue(key, out var v) && ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out ulong h) ? h : 0;
        return new PendingConfirm(lines[0], DateTimeOffset.FromUnixTimeMilliseconds(ms))
        {
            TableHandle = Handle("table-handle"),
            PreviousHandle = Handle("previous-handle"),
            Waiter = fields.TryGetValue("waiter", out var w) ? ProcessIdentity.Parse(w) : null,
        };
    }

    public void WritePending(PendingConfirm pending) =>
        WriteAtomically(PendingPath, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{pending.Token}\n{pending.Deadline.ToUnixTimeMilliseconds()}\ntable-handle={pending.TableHandle}\nprevious-handle={pending.PreviousHandle}\n")
            + (pending.Waiter is { } waiter ? $"waiter={waiter}\n" : "")));

    /// <summary>The log's last line, to quote when something already happened (empty when there is none).</summary>
    public string LastLogLine()
    {
        try
        {
            using var directory = OpenDirectory();
            return directory.Read(Path.GetFileName(LogPath)) is { } bytes
                ? Encoding.UTF8.GetString(bytes).TrimEnd('\n').Split('\n')[^1]
                : "";
        }
        catch (StateFileException)
        {
            return ""; // the log is a courtesy, as in Log
        }
    }

    public void DeletePending()
    {
        using var directory = OpenDirectory();
        directory.Delete(Path.GetFileName(PendingPath));
    }

    /// <summary>The saved table, or null when none is saved; a snapshot that does not verify is an error, never "no table".</summary>
    public TableSnapshot? ReadSnapshot()
    {
        using var directory = OpenDirectory();
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
        using var directory = OpenDirectory();
        directory.Delete(Path.GetFileName(SnapshotPath));
    }

    public void Log(string line)
    {
        try
        {
            using var directory = OpenDirectory();
            directory.Append(Path.GetFileName(LogPath), $"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} [{Environment.ProcessId}] {line}\n");
        }
        catch (Exception e) when (e is StateFileException or IOException)
        {
            // The log is a courtesy; never let it stop a rollback.
        }
    }

    private StateDirectory OpenDirectory() => StateDirectory.Open(Directory, _createDirectory);

    private void WriteAtomically(string path, byte[] bytes)
    {
        using var directory = OpenDirectory();
        directory.WriteAtomically(Path.GetFileName(path), bytes);
    }

    /// <summary>The name as a file-name part, one-to-one: letters, digits and '-' stay, every other byte becomes _XX.</summary>
    internal static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(name))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b == '-')
                builder.Append((char)b);
            else
                builder.Append('_').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return builder.ToString();
    }
}
