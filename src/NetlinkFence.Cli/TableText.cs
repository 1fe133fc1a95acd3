using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>Plain text of a table read back; replaced by the nft-syntax renderer once it lands.</summary>
internal static class TableText
{
    public static string Render(TableContents contents)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine($"table {contents.Table.Family.ToNftName()} {contents.Table.Name} (generation {contents.Generation})");
        foreach (var set in contents.Sets)
            text.AppendLine($"  set {set.Set.Name}: {set.Elements.Count} elements");
        foreach (var chain in contents.Chains)
        {
            text.AppendLine($"  chain {chain.Name}" + (chain.Hook is { } h ? $" (hook {h.Hook}, policy {h.Policy})" : ""));
            foreach (var rule in contents.RulesOf(chain.Name))
                text.AppendLine($"    [{rule.Handle}] " + string.Join(" ", rule.Expressions.Select(e => e.Name)) + (rule.Comment is null ? "" : $" # {rule.Comment}"));
        }
        return text.ToString();
    }
}
