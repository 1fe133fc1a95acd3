namespace NetlinkFence.Cli.Daemon;

/// <summary>How the daemon keeps others from changing its table.</summary>
internal enum TableMode
{
    /// <summary>The kernel enforces it: the table carries NFT_TABLE_F_OWNER | NFT_TABLE_F_PERSIST, owned by the daemon's socket.</summary>
    Owner,

    /// <summary>The kernel refused the flags (or --no-owner): the daemon watches nf_tables events and repairs foreign changes.</summary>
    Watch,
}
