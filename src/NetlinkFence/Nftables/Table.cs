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

    /// <summary>Table flags (<c>NFT_TABLE_F_*</c>), e.g. dormant.</summary>
    public uint Flags { get; init; }

    /// <summary>Kernel handle; set on objects read back, ignored when adding.</summary>
    public ulong Handle { get; init; }

    /// <summary>Whether two tables describe the same configuration (handles ignored).</summary>
    public bool SameConfiguration(Table other) => Family == other.Family && Name == other.Name && Flags == other.Flags;
}
