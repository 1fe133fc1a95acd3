namespace NetlinkFence.Nftables;

/// <summary>An nftables table.</summary>
public sealed record Table
{
    /// <summary>Creates a table description.</summary>
    public Table(NftFamily family, string name)
    {
        NftNames.Validate(name, "table");
        Family = family;
        Name = name;
    }

    /// <summary>The table's family.</summary>
    public NftFamily Family { get; }

    /// <summary>The table's name (at most 255 bytes).</summary>
    public string Name { get; }

    /// <summary>
    /// <c>NFT_TABLE_F_OWNER</c>: the table belongs to the netlink socket that set the flag; the kernel refuses (EPERM)
    /// every change to it from any other socket, root <c>nft</c> included, and removes it when that socket closes
    /// (unless <see cref="PersistFlag"/> is set too).
    /// </summary>
    public const uint OwnerFlag = 0x2;

    /// <summary>
    /// <c>NFT_TABLE_F_PERSIST</c> (Linux 6.9+; newer than Debian 12's headers): with <see cref="OwnerFlag"/>, the table
    /// stays when its owner's socket closes, orphaned (the kernel clears the owner flag; anyone may change it again, and
    /// a new owner may adopt it). Older kernels refuse it with EOPNOTSUPP.
    /// </summary>
    public const uint PersistFlag = 0x4;

    /// <summary>Table flags (<c>NFT_TABLE_F_*</c>), e.g. dormant, <see cref="OwnerFlag"/>, <see cref="PersistFlag"/>.</summary>
    public uint Flags { get; init; }

    /// <summary>Whether <see cref="Flags"/> has <see cref="OwnerFlag"/>: one socket (<see cref="Owner"/>) may change the table, no other.</summary>
    public bool IsOwned => (Flags & OwnerFlag) != 0;

    /// <summary>
    /// On tables read back: the netlink port id of the socket that owns the table (<c>NFTA_TABLE_OWNER</c>), null when
    /// it has no owner. Ignored when adding (the owner is always the socket that commits <see cref="OwnerFlag"/>).
    /// </summary>
    public uint? Owner { get; init; }

    /// <summary>Kernel handle; set on objects read back, ignored when adding.</summary>
    public ulong Handle { get; init; }

    /// <summary>
    /// The table's comment, stored in <c>NFTA_TABLE_USERDATA</c> the way nft stores it (<c>nft list</c> prints it).
    /// The kernel keeps it from the table's creation: adding an existing table does not change it.
    /// </summary>
    /// <exception cref="ArgumentException">Longer than the userdata can hold.</exception>
    public string? Comment
    {
        get;
        init
        {
            if (value is not null && RuleUserData.CommentSize(value) > RuleUserData.MaxBytes)
                throw new ArgumentException($"table comment is longer than the {RuleUserData.MaxBytes - 3} bytes nf_tables userdata can hold (NFT_USERDATA_MAXLEN)", nameof(value));
            field = value;
        }
    }

    /// <summary>
    /// Whether two tables describe the same configuration: handles, owners, comments and the <see cref="OwnerFlag"/>
    /// and <see cref="PersistFlag"/> bits are ignored (they say which process manages the table and which version
    /// wrote it, not what it filters; a daemon's owned table matches its policy, and so does the table it leaves behind).
    /// </summary>
    public bool SameConfiguration(Table other) =>
        Family == other.Family && Name == other.Name && (Flags & ~Management) == (other.Flags & ~Management);

    private const uint Management = OwnerFlag | PersistFlag;
}
