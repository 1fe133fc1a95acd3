using NetlinkFence.Nftables;

namespace NetlinkFence.Policy;

/// <summary>One difference between the expected and the live table.</summary>
/// <param name="Kind">Added (live has it, policy does not), Missing (policy has it, live does not) or Changed.</param>
/// <param name="Subject">What differs, e.g. <c>chain output</c> or <c>set allow_v4</c>.</param>
/// <param name="Detail">How it differs, in nft syntax where possible.</param>
public sealed record TableDifference(DifferenceKind Kind, string Subject, string Detail)
{
    /// <summary><c>+ chain output: ...</c> / <c>- ...</c> / <c>~ ...</c>.</summary>
    public override string ToString() => $"{Kind switch { DifferenceKind.Added => "+", DifferenceKind.Missing => "-", _ => "~" }} {Subject}: {Detail}";
}

/// <summary>Direction of a difference, seen from the live table.</summary>
public enum DifferenceKind
{
    /// <summary>In the live table but not in the policy (e.g. a rule or element added by hand).</summary>
    Added,
    /// <summary>In the policy but not in the live table (e.g. a rule deleted by hand).</summary>
    Missing,
    /// <summary>In both, but different (e.g. a chain policy flipped to accept).</summary>
    Changed,
}

/// <summary>
/// Compares what a policy compiles to with what the kernel holds: chains (hooks, policies), rules in order
/// (counter values ignored), sets and their elements. Nothing the kernel holds is ignored, including
/// expressions the decoder keeps raw.
/// </summary>
public static class TableDiff
{
    /// <summary>
    /// As <see cref="Compare(TableContents, TableContents?, Func{Rule, string}?)"/> for a table the policy runs in (the
    /// daemon, <see cref="LivePolicy"/>): besides what <c>apply</c> put there, the egress allow sets may hold what
    /// the policy lets them hold while it runs, each with a kernel timeout: an open window (no longer than the entry's
    /// <c>window:</c>), the addresses a followed name resolves to, a destination added for a while; always for an entry
    /// of the policy, on its own ports and scope. Their permanent elements must be the policy's literal destinations
    /// exactly, plus addresses its names resolve to now (a one-shot apply keeps them permanent; the daemon replaces
    /// them with timed ones). Everything else is compared as <see cref="Compare(TableContents, TableContents?, Func{Rule, string}?)"/> does.
    /// </summary>
    /// <param name="policy">The compiled policy (its names resolved now).</param>
    /// <param name="live">The table as listed, or null when it does not exist.</param>
    /// <param name="now">When <paramref name="live"/> was listed (element timeouts count from it).</param>
    /// <param name="describeRule">Renders a rule for messages.</param>
    public static IReadOnlyList<TableDifference> CompareRunning(CompiledPolicy policy, TableContents? live, DateTimeOffset now, Func<Rule, string>? describeRule = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var expected = policy.ToExpectedContents();
        if (live is null || live.Table.Name != expected.Table.Name)
            return Compare(expected, live, describeRule);
        var differences = Compare(LivePolicy.WithoutLiveElements(expected), LivePolicy.WithoutLiveElements(live), describeRule).ToList();
        RunningTableCheck.CompareAllowSets(policy, expected, live, now, differences);
        return differences;
    }

    /// <summary>Every difference; empty when the live table matches. <paramref name="describeRule"/> renders a rule for messages.</summary>
    public static IReadOnlyList<TableDifference> Compare(TableContents expected, TableContents? live, Func<Rule, string>? describeRule = null)
    {
        describeRule ??= r => string.Join(" ", r.Expressions.Select(e => e.Name)) + (r.Comment is null ? "" : $" comment \"{r.Comment}\"");
        var differences = new List<TableDifference>();
        string table = $"table {expected.Table.Family.ToNftName()} {expected.Table.Name}";
        if (live is null)
        {
            differences.Add(new(DifferenceKind.Missing, table, "the table does not exist"));
            return differences;
        }
        if (!expected.Table.SameConfiguration(live.Table))
            differences.Add(new(DifferenceKind.Changed, table, $"flags {live.Table.Flags}, expected {expected.Table.Flags}"));

        foreach (var chain in expected.Chains)
        {
            var other = live.Chains.FirstOrDefault(c => c.Name == chain.Name);
            if (other is null)
                differences.Add(new(DifferenceKind.Missing, $"chain {chain.Name}", "the chain does not exist"));
            else if (!chain.SameConfiguration(other))
                differences.Add(new(DifferenceKind.Changed, $"chain {chain.Name}", $"{Hook(other.Hook)}, expected {Hook(chain.Hook)}"));
        }
        foreach (var chain in live.Chains.Where(c => expected.Chains.All(e => e.Name != c.Name)))
            differences.Add(new(DifferenceKind.Added, $"chain {chain.Name}", Hook(chain.Hook)));

        foreach (var chain in expected.Chains.Select(c => c.Name).Union(live.Chains.Select(c => c.Name)))
            CompareRules(chain, expected.RulesOf(chain).ToList(), live.RulesOf(chain).ToList(), describeRule, differences);

        foreach (var set in expected.Sets)
        {
            var other = live.Sets.FirstOrDefault(s => s.Set.Name == set.Set.Name);
            if (other is null)
            {
                differences.Add(new(DifferenceKind.Missing, $"set {set.Set.Name}", "the set does not exist"));
                continue;
            }
            if (!set.Set.SameConfiguration(other.Set))
                differences.Add(new(DifferenceKind.Changed, $"set {set.Set.Name}", "type or flags differ"));
            foreach (var element in other.Elements.Except(set.Elements))
                differences.Add(new(DifferenceKind.Added, $"set {set.Set.Name}", $"element {Describe(set.Set, element)}"));
            foreach (var element in set.Elements.Except(other.Elements))
                differences.Add(new(DifferenceKind.Missing, $"set {set.Set.Name}", $"element {Describe(set.Set, element)}"));
        }
        foreach (var set in live.Sets.Where(s => expected.Sets.All(e => e.Set.Name != s.Set.Name)))
            differences.Add(new(DifferenceKind.Added, $"set {set.Set.Name}", $"{set.Elements.Count} elements"));
        return differences;
    }

    /// <summary>Rules are an ordered list: report the first divergence and what follows, like a line diff.</summary>
    private static void CompareRules(string chain, List<Rule> expected, List<Rule> live, Func<Rule, string> describe, List<TableDifference> differences)
    {
        // Longest common subsequence on SameConfiguration: exact, and rule lists are short (sets carry the bulk).
        int n = expected.Count, m = live.Count;
        var lcs = new int[n + 1, m + 1];
        for (int i = n - 1; i >= 0; i--)
            for (int j = m - 1; j >= 0; j--)
                lcs[i, j] = expected[i].SameConfiguration(live[j]) ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
        int a = 0, b = 0;
        while (a < n || b < m)
        {
            if (a < n && b < m && expected[a].SameConfiguration(live[b]))
            {
                a++;
                b++;
            }
            else if (b < m && (a == n || lcs[a, b + 1] >= lcs[a + 1, b]))
            {
                differences.Add(new(DifferenceKind.Added, $"chain {chain}", $"rule {describe(live[b])}"));
                b++;
            }
            else
            {
                differences.Add(new(DifferenceKind.Missing, $"chain {chain}", $"rule {describe(expected[a])}"));
                a++;
            }
        }
    }

    private static string Hook(ChainHook? hook) =>
        hook is null ? "regular chain" : $"type {hook.Type} hook {hook.Hook.ToString().ToLowerInvariant()} priority {hook.Priority}; policy {hook.Policy.ToString().ToLowerInvariant()}";

    /// <summary>An element in nft syntax (<c>203.0.113.50 . 443</c>); raw bytes only when nft syntax cannot express it alone.</summary>
    internal static string Describe(NftSet set, SetElement element)
    {
        if (!element.IntervalEnd)
        {
            try
            {
                var items = NetlinkFence.Nftables.Rendering.SetElementFormatter.Items(set, [element]);
                if (items.Count == 1)
                    return items[0];
            }
            catch (ArgumentException)
            {
            }
        }
        return element.KeyEnd is { } end ? $"{element.Key}-{end}" : element.Key.ToString() + (element.IntervalEnd ? " (interval end)" : "");
    }
}
