using System.Diagnostics;
namespace NetlinkFence.Nftables.Snapshots;

/// <summary>
/// What one table looked like at a moment (or that it did not exist), kept so it can be put back exactly:
/// <see cref="ToRestoreTransaction"/> is one atomic batch that re-creates the table with every chain, set,
/// element and rule in order (or deletes the table when there was none). <see cref="Serialize"/> turns it into
/// bytes (the objects as nf_tables netlink messages) that survive the process, for a later rollback.
/// </summary>
/// <remarks>
/// Timed elements (an open update window, a followed name's address, an audit) are put back with the time they have
/// left at the restore, not at the listing, and those whose time ran out since are left out: a restore never opens
/// again what the kernel closed meanwhile, nor keeps anything open longer than it was given.
/// </remarks>
public sealed class TableSnapshot
{
    private TableSnapshot(NftFamily family, string name, TableContents? contents, long? listedAt)
    {
        Family = family;
        Name = name;
        Contents = contents;
        ListedAt = listedAt;
    }

    /// <summary>The table's family.</summary>
    public NftFamily Family { get; }

    /// <summary>The table's name.</summary>
    public string Name { get; }

    /// <summary>The table and everything in it, as listed (timed elements with the time they had left then), or null when the table did not exist.</summary>
    public TableContents? Contents { get; }

    /// <summary>
    /// When the table was listed, as a <see cref="Stopwatch.GetTimestamp"/> (the monotonic clock, the same in every
    /// process of the host), or earlier: the time left on timed elements counts from here. Null when unknown (a snapshot
    /// written by a build before format version 3): a restore then leaves every timed element out.
    /// </summary>
    public long? ListedAt { get; }

    /// <summary>Whether the table existed when the snapshot was taken.</summary>
    public bool Existed => Contents is not null;

    /// <summary>
    /// A snapshot of a listing (<paramref name="contents"/> null: the table did not exist). <paramref name="listedAt"/>:
    /// a <see cref="Stopwatch.GetTimestamp"/> taken before the listing was read (null: now, right for a listing just read).
    /// </summary>
    public static TableSnapshot Of(NftFamily family, string name, TableContents? contents, long? listedAt = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (contents is not null && (contents.Table.Family != family || contents.Table.Name != name))
            throw new ArgumentException($"the listing is of table {contents.Table.Family.ToNftName()} {contents.Table.Name}, not {family.ToNftName()} {name}", nameof(contents));
        return new TableSnapshot(family, name, contents, listedAt ?? Stopwatch.GetTimestamp());
    }

    /// <summary>Reads the live table (consistently, from one generation) into a snapshot.</summary>
    public static async Task<TableSnapshot> CaptureAsync(NftablesConnection connection, NftFamily family, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        long listedAt = Stopwatch.GetTimestamp(); // before: the elements' time left is then never overstated
        var contents = await connection.ListTableAsync(family, name, cancellationToken).ConfigureAwait(false);
        return Of(family, name, contents, listedAt);
    }

    /// <summary>
    /// The one transaction that puts this snapshot back: destroy the table with everything in it (no error if it
    /// does not exist), and, when it existed, add it again with all its objects (<see cref="ContentsNow"/>: timed
    /// elements with the time they have left now). All or nothing applies.
    /// </summary>
    public Transaction ToRestoreTransaction()
    {
        var bare = new Table(Family, Name);
        var tx = new Transaction().DestroyTable(bare);
        if (ContentsNow() is { } contents)
            AppendContents(tx, contents);
        return tx;
    }

    /// <summary>
    /// <see cref="Contents"/> as a restore puts it back now: each timed element with the time it has left now (what it
    /// had at the listing, less the time since <see cref="ListedAt"/>), those whose time ran out left out (all timed
    /// elements when <see cref="ListedAt"/> is unknown). Elements without a timeout are as listed.
    /// </summary>
    public TableContents? ContentsNow()
    {
        if (Contents is not { } contents || !contents.Sets.Any(s => s.Elements.Any(IsTimed)))
            return Contents;
        TimeSpan? elapsed = ListedAt is { } listed ? Stopwatch.GetElapsedTime(listed) : null;
        if (elapsed < TimeSpan.Zero)
            elapsed = null; // another clock (a reboot in between): unknown
        return contents with { Sets = [.. contents.Sets.Select(set => set with { Elements = TimeLeft(set.Set, set.Elements, elapsed) })] };
    }

    private static bool IsTimed(SetElement element) => element.Timeout is not null || element.Expiration is not null;

    private static List<SetElement> TimeLeft(NftSet set, IReadOnlyList<SetElement> elements, TimeSpan? elapsed)
    {
        // A range of a plain interval set is a start element and the end element after it, and a start whose time ran
        // out may be what ends the range before it: leaving it out would widen that range. So in such sets an element
        // whose time ran out goes back with the shortest time left there is, and the kernel expires it as it would have.
        bool rangesOfTwoElements = (set.Flags & SetFlags.Interval) != 0 && !set.IsConcatenation;
        var kept = new List<SetElement>(elements.Count);
        foreach (var element in elements)
        {
            if (!IsTimed(element))
            {
                kept.Add(element);
                continue;
            }
            var timeout = element.Timeout ?? set.Timeout;
            var left = elapsed is { } since && (element.Expiration ?? timeout) is { } had ? had - since : TimeSpan.Zero;
            if (left > TimeSpan.Zero && timeout is not null)
                kept.Add(element with { Timeout = timeout, Expiration = left < timeout ? left : timeout });
            else if (rangesOfTwoElements && timeout is not null)
                kept.Add(element with { Timeout = timeout, Expiration = TimeSpan.FromMilliseconds(1) });
        }
        return kept;
    }

    /// <summary>Adds the table and its objects in creation order: table, chains, sets with elements, rules.</summary>
    internal static Transaction AppendContents(Transaction tx, TableContents contents)
    {
        tx.AddTable(contents.Table with { Handle = 0 }, "snapshot");
        foreach (var chain in contents.Chains)
            tx.AddChain(chain with { Handle = 0 }, "snapshot");
        foreach (var set in contents.Sets)
        {
            var fresh = set.Set with { Handle = 0 };
            tx.AddSet(fresh, "snapshot");
            if (set.Elements.Count > 0)
                tx.AddElements(fresh, set.Elements, "snapshot");
        }
        // Rules are appended in listing order, so their positions come out as they were; old handles mean nothing.
        foreach (var rule in contents.Rules)
            tx.AddRule(rule with { Handle = 0, Position = null }, "snapshot");
        return tx;
    }

    /// <summary>The snapshot as bytes (see <see cref="SnapshotFormat"/>); <see cref="Deserialize"/> reads them back.</summary>
    public byte[] Serialize() => SnapshotFormat.Write(this);

    /// <summary>
    /// Reads bytes written by <see cref="Serialize"/>. Bytes that are truncated, damaged (checksum), of another
    /// format version or otherwise malformed raise <see cref="SnapshotCorruptException"/>, and nothing else.
    /// </summary>
    public static TableSnapshot Deserialize(ReadOnlySpan<byte> data)
    {
        var (family, name, contents, listedAt) = SnapshotFormat.Read(data);
        return new TableSnapshot(family, name, contents, listedAt);
    }

    /// <summary>
    /// Writes the snapshot to <paramref name="path"/> atomically: a new temporary file (mode 0600, created
    /// exclusively, so a symbolic link in its place is never followed), flushed to disk, then renamed.
    /// </summary>
    public void WriteFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string temporary = path + ".tmp" + Environment.ProcessId;
        File.Delete(temporary); // a leftover of a crashed writer with this pid (removes a link, never its target)
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(Serialize());
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a snapshot written by <see cref="WriteFile"/>; see <see cref="Deserialize"/> for what is refused.</summary>
    public static TableSnapshot ReadFile(string path)
    {
        try
        {
            return Deserialize(File.ReadAllBytes(path));
        }
        catch (SnapshotCorruptException e)
        {
            throw new SnapshotCorruptException($"{path}: {e.Message}", e);
        }
    }
}
