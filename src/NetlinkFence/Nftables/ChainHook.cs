namespace NetlinkFence.Nftables;

/// <summary>Where a base chain attaches to the packet path.</summary>
public enum HookPoint : uint
{
    /// <summary><c>prerouting</c>.</summary>
    Prerouting = 0,
    /// <summary><c>input</c>.</summary>
    Input = 1,
    /// <summary><c>forward</c>.</summary>
    Forward = 2,
    /// <summary><c>output</c>.</summary>
    Output = 3,
    /// <summary><c>postrouting</c>.</summary>
    Postrouting = 4,
}

/// <summary>What a base chain does with a packet no rule decided on.</summary>
public enum ChainPolicy : uint
{
    /// <summary><c>drop</c>.</summary>
    Drop = 0,
    /// <summary><c>accept</c>.</summary>
    Accept = 1,
}

/// <summary>The hook of a base chain: <c>type filter hook output priority 0; policy drop;</c>.</summary>
/// <param name="Type">Chain type: <c>filter</c>, <c>nat</c> or <c>route</c>.</param>
/// <param name="Hook">The hook point.</param>
/// <param name="Priority">The priority (nft's <c>filter</c> is 0).</param>
/// <param name="Policy">The default verdict.</param>
public sealed record ChainHook(string Type, HookPoint Hook, int Priority, ChainPolicy Policy);
