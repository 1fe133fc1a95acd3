using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Nftables;

/// <summary>Set flags (<c>NFT_SET_*</c>).</summary>
[Flags]
public enum SetFlags : uint
{
    /// <summary>No flags: a hash set of single values.</summary>
    None = 0,
    /// <summary>Anonymous (rule-scoped) set.</summary>
    Anonymous = NftSetFlags.ANONYMOUS,
    /// <summary>Contents cannot change after creation.</summary>
    Constant = NftSetFlags.CONSTANT,
    /// <summary>Elements are ranges (CIDRs, port ranges).</summary>
    Interval = NftSetFlags.INTERVAL,
    /// <summary>A map.</summary>
    Map = NftSetFlags.MAP,
    /// <summary>Elements can expire.</summary>
    Timeout = NftSetFlags.TIMEOUT,
    /// <summary>Updated from the packet path.</summary>
    Eval = NftSetFlags.EVAL,
    /// <summary>An object map.</summary>
    Object = NftSetFlags.OBJECT,
    /// <summary>An interval set whose key is a concatenation (set automatically for those, as nft does).</summary>
    Concat = NftSetFlags.CONCAT,
    /// <summary>Elements carry expressions.</summary>
    Expressions = NftSetFlags.EXPR,
}
