namespace NetlinkFence.Nftables;

/// <summary>A chain: a base chain when <see cref="Hook"/> is set, else a regular chain reached by jump or goto.</summary>
public sealed record Chain
{
    /// <summary>Creates a chain description.</summary>
    public Chain(NftFamily family, string table, string name, ChainHook? hook = null)
    {
        NftNames.Validate(table, "table");
        NftNames.Validate(name, "chain");
        Family = family;
        Table = table;
        Name = name;
        Hook = hook;
    }

    /// <summary>The family of the table.</summary>
    public NftFamily Family { get; }

    /// <summary>The table's name.</summary>
    public string Table { get; }

    /// <summary>The chain's name.</summary>
    public string Name { get; }

    /// <summary>The hook for a base chain; null for a regular chain.</summary>
    public ChainHook? Hook { get; }

    /// <summary>Chain flags (<c>NFT_CHAIN_*</c>) as read back.</summary>
    public uint Flags { get; init; }

    /// <summary>Kernel handle; set on objects read back, ignored when adding.</summary>
    public ulong Handle { get; init; }

    /// <summary>Whether two chains describe the same configuration (handles and kernel-set flags ignored).</summary>
    public bool SameConfiguration(Chain other) =>
        Family == other.Family && Table == other.Table && Name == other.Name && Equals(Hook, other.Hook);
}
