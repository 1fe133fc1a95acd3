using NetlinkFence.Nftables;

namespace NetlinkFence.Policy;

/// <summary>
/// The ruleset a policy compiles to: the table with every chain, set (with elements) and rule, and where
/// each came from. Deterministic: the same resolved policy always gives the same objects and bytes.
/// </summary>
public sealed class CompiledPolicy
{
    internal CompiledPolicy(ResolvedPolicy source, Table table, IReadOnlyList<Chain> chains, IReadOnlyList<CompiledSet> sets, IReadOnlyList<CompiledRule> rules,
        IReadOnlyList<AllowGrant> grants, IReadOnlyList<AllowGrant> inputGrants, bool hasIPv6Peers)
    {
        HasIPv6Peers = hasIPv6Peers;
        Grants = grants;
        InputGrants = inputGrants;
        Source = source;
        Table = table;
        Chains = chains;
        Sets = sets;
        Rules = rules;
    }

    /// <summary>The resolved policy this came from.</summary>
    public ResolvedPolicy Source { get; }

    /// <summary>The table (inet, owned wholly by the tool); its <see cref="Table.Comment"/> names the build that compiled it.</summary>
    public Table Table { get; }

    /// <summary>Chains, base chains first.</summary>
    public IReadOnlyList<Chain> Chains { get; }

    /// <summary>Sets with their elements.</summary>
    public IReadOnlyList<CompiledSet> Sets { get; }

    /// <summary>
    /// What the egress allow entries let through, in policy order (the elements of <c>allow_v4</c> and
    /// <c>allow_v6</c> are planned from these). Entries with a window contribute nothing here.
    /// </summary>
    public IReadOnlyList<AllowGrant> Grants { get; }

    /// <summary>What the input allow entries let in (sources), in policy order: the elements of <c>input_v4</c> and <c>input_v6</c>.</summary>
    public IReadOnlyList<AllowGrant> InputGrants { get; }

    /// <summary>Rules in chain order, each with its origin.</summary>
    public IReadOnlyList<CompiledRule> Rules { get; }

    /// <summary>
    /// Whether the policy names an IPv6 peer (a resolver, a destination or a source; a window entry's too, open or not).
    /// Only then does it let IPv6 link housekeeping through (neighbour and multicast listener discovery); without one,
    /// IPv6 is closed altogether, and a host with IPv6 on logs that housekeeping as denials.
    /// </summary>
    public bool HasIPv6Peers { get; }

    /// <summary>
    /// The same policy with <paramref name="flags"/> as its table's flags, e.g. <see cref="Table.OwnerFlag"/> |
    /// <see cref="Table.PersistFlag"/> for a daemon that owns the table while it runs.
    /// </summary>
    public CompiledPolicy WithTableFlags(uint flags) =>
        flags == Table.Flags ? this : new(Source, Table with { Flags = flags }, Chains, Sets, Rules, Grants, InputGrants, HasIPv6Peers);

    /// <summary>
    /// The one transaction that replaces the live table: destroy it with everything in it (NFT_MSG_DESTROYTABLE, or
    /// on kernels before 6.3 add it so the delete cannot fail, then delete it), and add it again with the whole new
    /// contents. All of it or nothing applies.
    /// With <paramref name="tableExists"/> false (the caller read that there is no table, and commits with that
    /// generation) it only creates it: a table added and deleted in one batch is listed to concurrent readers as
    /// an empty, active table while the kernel processes the batch (nf_tables' deactivate-next marks it active
    /// in the current generation), which a generation check cannot detect.
    /// </summary>
    public Transaction ToReplaceTransaction(bool tableExists = true) => ToReplaceTransaction(tableExists, set => set.Elements);

    /// <summary>
    /// <see cref="ToReplaceTransaction(bool)"/> with each set filled with <paramref name="elementsOf"/> instead of its
    /// compiled elements (a live policy's repair: the allow sets with their open windows and followed names).
    /// </summary>
    internal Transaction ToReplaceTransaction(bool tableExists, Func<CompiledSet, IReadOnlyList<SetElement>> elementsOf)
    {
        var tx = tableExists ? new Transaction().DestroyTable(Table).AddTable(Table, Source.Policy.Source) : new Transaction().AddTable(Table, Source.Policy.Source);
        foreach (var chain in Chains)
            tx.AddChain(chain);
        foreach (var set in Sets)
        {
            tx.AddSet(set.Set, set.Origin);
            var elements = elementsOf(set);
            if (elements.Count > 0)
                tx.AddElements(set.Set, elements, set.Origin);
        }
        foreach (var rule in Rules)
            tx.AddRule(rule.Rule, rule.Origin);
        return tx;
    }

    /// <summary>The table as the kernel should list it after a successful apply (for plan, verify and diffs).</summary>
    public TableContents ToExpectedContents() =>
        new(Table, Chains, Sets.Select(s => new SetContents(s.Set, s.Elements)).ToList(), Rules.Select(r => r.Rule).ToList(), 0);
}

/// <summary>A compiled set and the policy text it came from.</summary>
/// <param name="Set">The set.</param>
/// <param name="Elements">Its elements.</param>
/// <param name="Origin">Policy location.</param>
/// <param name="Explanation">What it holds, for plan's comments (e.g. names and the addresses they resolved to).</param>
public sealed record CompiledSet(NftSet Set, IReadOnlyList<SetElement> Elements, string Origin, IReadOnlyList<string> Explanation);

/// <summary>A compiled rule and why it exists.</summary>
/// <param name="Rule">The rule.</param>
/// <param name="Origin">Policy location, or <c>built-in</c>.</param>
/// <param name="Reason">Why the rule is there (shown by plan).</param>
public sealed record CompiledRule(Rule Rule, string Origin, string Reason);
