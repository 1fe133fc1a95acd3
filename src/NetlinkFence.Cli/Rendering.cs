using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Rendering;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>How the CLI turns tables and compiled policies into nft text.</summary>
internal static class Rendering
{
    /// <summary>Interface 1 is the loopback in every network namespace; other indexes print as numbers.</summary>
    public static readonly NftRenderer Renderer = new(index => index == 1 ? "lo" : null);

    public static string Rule(Rule rule) => Renderer.RenderRule(rule);

    /// <summary>
    /// Where a set's elements come from: one line when short; an allow set (one per family, every entry's elements in
    /// it) gets a line per entry, so each element's comment can be traced to the entry's file:line.
    /// </summary>
    private static IEnumerable<string> SetComment(CompiledSet set)
    {
        if (set.Explanation.Count == 0)
            return [set.Origin == "input.allow"
                ? $"from {set.Origin}: empty, no input entry of this family (windows and added destinations are egress only)"
                : $"from {set.Origin}: no elements until a window opens or a destination is added"];
        string joined = string.Join("; ", set.Explanation);
        if (set.Explanation.Count == 1 || joined.Length <= 120)
            return [$"from {set.Origin}: {joined}"];
        return [$"from {set.Origin}:", .. set.Explanation.Select(line => "  " + line)];
    }

    /// <summary>The compiled policy as an annotated <c>nft -f</c> file that performs the same atomic replace as apply.</summary>
    public static string Plan(CompiledPolicy compiled, string policyPath)
    {
        // By reference: two rules can be equal in content (e.g. the same match in two chains) yet differ in origin.
        var rules = compiled.Rules.ToDictionary<CompiledRule, Rule>(r => r.Rule, ReferenceEqualityComparer.Instance);
        var sets = compiled.Sets.ToDictionary<CompiledSet, NftSet>(s => s.Set, ReferenceEqualityComparer.Instance);
        var annotations = new RenderAnnotations
        {
            BeforeRule = rule => rules.TryGetValue(rule, out var r) ? [$"{r.Reason} ({r.Origin})"] : [],
            BeforeSet = set => sets.TryGetValue(set, out var s) ? SetComment(s) : [],
        };
        return $"# netlinkfence plan of {NftRenderer.CommentText(policyPath)}\n"
            + "# One atomic transaction: create the table if missing, delete it with everything in it, re-create it whole.\n"
            + "# This file does the same with `nft -f`; `netlinkfence apply` does it over netlink with a generation check.\n"
            + Names(compiled.Source)
            + Renderer.RenderReplacement(compiled.ToExpectedContents(), annotations);
    }

    /// <summary>Each host name with its addresses, their TTLs and where they came from (a pin, or which resolver), as comment lines.</summary>
    public static string Names(ResolvedPolicy resolved)
    {
        if (resolved.Names.Count == 0)
            return "";
        var text = new System.Text.StringBuilder("# Host names:\n");
        foreach (var name in resolved.Names.Values.OrderBy(n => n.Host, StringComparer.Ordinal))
            text.Append("#   ").Append(NftRenderer.CommentText(NameLine(name, resolved.Policy.Dns))).Append('\n');
        if (resolved.Names.Values.Any(n => n.Source == ResolutionSource.Dns))
            text.Append("# DNS names are resolved once here; only the daemon (netlinkfence run) keeps them following DNS.\n");
        return text.ToString();
    }

    /// <summary>
    /// <c>host -> address (ttl 300s), ... (DNS via 192.168.1.10:53)</c>, or <c>(hosts: pin)</c>; a TTL the daemon
    /// follows otherwise (below <c>min_ttl</c>, above <c>max_ttl</c>) says as what: <c>(ttl 31536000s; followed as 1h, max_ttl)</c>.
    /// </summary>
    public static string NameLine(HostResolution name, DnsSettings dns)
    {
        string addresses = name.Unresolved ? "no address yet (resolve: lazy)"
            : name.Answers.Count > 0 ? string.Join(", ", name.Answers.Select(a => $"{a.Address} (ttl {a.Ttl.TotalSeconds:0}s{Followed(a.Ttl, dns)})"))
            : string.Join(", ", name.Addresses);
        string refused = name.Refused.Count == 0 ? "" : $"; refused from the answer: {string.Join(", ", name.Refused)} (a name never opens loopback, link-local or multicast addresses)";
        return $"{name.Host} -> {addresses} ({(name.Source == ResolutionSource.Pin ? "hosts: pin" : "DNS via " + name.Resolver)}){refused}";
    }

    /// <summary>The TTL the daemon follows an answer's <paramref name="ttl"/> as, when that is another one.</summary>
    private static string Followed(TimeSpan ttl, DnsSettings dns) => dns.Bound(ttl) == ttl ? ""
        : $"; followed as {WindowDuration.Format(dns.Bound(ttl))}, {(ttl < dns.MinTtl ? "min_ttl" : "max_ttl")}";
}
