namespace NetlinkFence.Nftables.Snapshots;

/// <summary>
/// What one table looked like at a moment (or that it did not exist), kept so it can be put back exactly:
/// <see cref="ToRestoreTransaction"/> is one atomic batch that re-creates the table with every chain, set,
/// element and rule in order (or deletes the table when there was none). <see cref="Serialize"/> turns it into
/// bytes (the objects as nf_tables netlink messages) that survive the process, for a later rollback.
/// </summary>
public sealed class TableSnapshot
{
    private TableSnapshot(NftFamily family, string name, TableContents? contents)
    {
        Family = family;
        Name = name;
        Contents = contents;
    }

    /// <summary>The table's family.</summary>
    public NftFamily Family { get; }

    /// <summary>The table's name.</summary>
    public string Name { get; }

    /// <summary>The table and everything in it, or null when the table did not exist.</summary>
    public TableContents? Contents { get; }

    /// <summary>Whether the table existed when the snapshot was taken.</summary>
    public bool Existed => Contents is not null;

    /// <summary>A snapshot of a listing (<paramref name="contents"/> null: the table did not exist).</summary>
    public static TableSnapshot Of(NftFamily family, string name, TableContents? contents)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (contents is not null && (contents.Table.Family != family || contents.Table.Name != name))
            throw new ArgumentException($"the listing is of table {contents.Table.Family.ToNftName()} {contents.Table.Name}, not {family.ToNftName()} {name}", nameof(contents));
        return new TableSnapshot(family, name, contents);
    }

    /// <summary>Reads the live table (consistently, from one generation) into a snapshot.</summary>
    public static async Task<TableSnapshot> CaptureAsync(NftablesConnection connection, NftFamily family, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var contents = await connection.ListTableAsync(family, name, cancellationToken).ConfigureAwait(false);
        return Of(family, name, contents);
    }

    /// <summary>
    /// The one transaction that puts this snapshot back: destroy the table with everything in it (no error if it
    /// does not exist), and, when it existed, add it again with all its objects. All or nothing applies.
    /// </summary>
    public Transaction ToRestoreTransaction()
    {
        var bare = new Table(Family, Name);
        var tx = new Transaction().DestroyTable(bare);
        if (Contents is { } contents)
            AppendContents(tx, contents);
        return tx;
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
        var (family, name, contents) = SnapshotFormat.Read(data);
        return new TableSnapshot(family, name, contents);
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
