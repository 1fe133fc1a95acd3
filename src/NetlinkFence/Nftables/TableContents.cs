namespace NetlinkFence.Nftables;

/// <summary>A table read back from the kernel: everything in it, from one consistent generation.</summary>
/// <param name="Table">The table.</param>
/// <param name="Chains">Its chains.</param>
/// <param name="Sets">Its named sets with their elements.</param>
/// <param name="Rules">Its rules, grouped by chain in chain order, each chain's rules in evaluation order.</param>
/// <param name="Generation">The ruleset generation the listing was read at.</param>
public sealed record TableContents(Table Table, IReadOnlyList<Chain> Chains, IReadOnlyList<SetContents> Sets, IReadOnlyList<Rule> Rules, uint Generation)
{
    /// <summary>The rules of chain <paramref name="chain"/>, in order.</summary>
    public IEnumerable<Rule> RulesOf(string chain) => Rules.Where(r => r.Chain == chain);
}
