using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>How the CLI prints a single rule in messages.</summary>
internal static class RuleText
{
    public static string Describe(Rule rule) =>
        string.Join(" ", rule.Expressions.Select(e => e.Name)) + (rule.Comment is null ? "" : $" comment \"{rule.Comment}\"");
}
