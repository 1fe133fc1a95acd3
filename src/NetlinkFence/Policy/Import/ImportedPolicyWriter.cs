using System.Globalization;
using System.Net;
using System.Text;
using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Policy.Import;

/// <summary>
/// Writes the imported policy as YAML (version 1): each entry under a comment citing its source lines, then what
/// became of every other line, what was not imported, and the notes. Deterministic (no time stamps), so the same
/// ruleset always prints the same policy.
/// </summary>
internal sealed class ImportedPolicyWriter(ImportPlan plan, IReadOnlyList<IptablesRuleset> rulesets)
{
    private readonly StringBuilder _text = new();
    private readonly Dictionary<string, List<string>> _defineValues = new(StringComparer.Ordinal);
    private readonly HashSet<string> _literalVariables = new(StringComparer.Ordinal);

    /// <summary>Variables the policy keeps as names (<c>define:</c>), with where the ruleset used them.</summary>
    public IReadOnlyCollection<string> DefinedVariables => _defineValues.Keys;

    public string Write()
    {
        CollectDefines();
        Line($"# netlinkfence import iptables: {string.Join(", ", rulesets.Select(r => $"{Comment(r.File)} ({(r.IPv6 ? "IPv6" : "IPv4")})"))}");
        Line("# Each entry cites the ruleset lines it came from; the end of the file says what became of every other line.");
        Line("# Review it with `netlinkfence plan` and `netlinkfence lint` before `netlinkfence apply`.");
        if (!rulesets.Any(r => r.IPv6))
            Line("# No --ip6 file: IPv6 is denied (only loopback and replies pass), whatever ip6tables did on this host.");
        Line("version: 1");
        Line("table: netlinkfence");
        if (_defineValues.Count > 0)
        {
            Line("");
            Line("define:");
            foreach (var (name, values) in _defineValues.OrderBy(d => d.Key, StringComparer.Ordinal))
            {
                var uses = rulesets.SelectMany(r => r.VariableUses.GetValueOrDefault(name) ?? []).Select(u => u.ToString()).ToList();
                string origin = rulesets.Select(r => r.Ipsets.GetValueOrDefault(name)).FirstOrDefault(s => s is not null) is { } set
                    ? $"ipset {Comment(set.Name)} ({set.Type}{(set.ListedSets is { } listed ? $" of {Comment(listed)}" : "")}, {Comment(set.Declaration.ToString())}, {set.Members.Count} member{(set.Members.Count == 1 ? "" : "s")})"
                    : $"--define {name}";
                Line($"  # {origin}; used at {Comment(string.Join(", ", uses.Take(5)))}{(uses.Count > 5 ? $" and {uses.Count - 5} more" : "")}");
                Line($"  {name}: {(values.Count == 1 ? values[0] : List(values))}");
            }
        }
        if (plan.Log is { } log && (log.Prefix is not null || log.Rate is not null))
        {
            Line("");
            Line("log:");
            Cite("  ", [log.Line]);
            if (log.Prefix is not null)
                Line($"  prefix: \"{log.Prefix.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"");
            if (log.Rate is { } rate)
                Line($"  rate: {IptablesValues.RateText(rate)}");
        }
        if (plan.Input.Count > 0)
        {
            Line("");
            Line("input:");
            Line("  allow:");
            foreach (var entry in plan.Input)
                Entry(entry, "from");
        }
        if (plan.Egress.Count > 0 || plan.Resolvers.Count > 0 || plan.EgressDeny == DenyAction.Reject)
        {
            Line("");
            Line("egress:");
            if (plan.EgressDeny == DenyAction.Reject)
            {
                Cite("  ", plan.EgressEnds.OfType<IptablesLine>());
                Line("  deny: reject");
            }
            if (plan.Resolvers.Count > 0)
            {
                Line("  dns:");
                foreach (var resolver in plan.Resolvers)
                    Cite("    ", resolver.Lines);
                Line($"    resolvers: {List(plan.Resolvers.SelectMany(r => Peers(r)).Distinct().ToList())}");
            }
            if (plan.Egress.Count > 0)
            {
                Line("  allow:");
                foreach (var entry in plan.Egress)
                    Entry(entry, "to");
            }
        }
        return _text.ToString();
    }

    /// <summary>The closing comments: every line's fate, what was not imported, notes and lint findings.</summary>
    public string Trailer(IReadOnlyList<PolicyDiagnostic> lint, bool partial)
    {
        var text = new StringBuilder();
        void Add(string line) => text.Append(line).Append('\n');
        Add("");
        Add("# What became of each line of the ruleset:");
        foreach (var (line, fate, why) in plan.Fates.Distinct().OrderBy(f => f.Line.File, StringComparer.Ordinal).ThenBy(f => f.Line.Number))
            Add($"#   {Comment(line.ToString())}: {FateText(fate)}{(why.Length == 0 ? "" : $" ({Comment(why)})")}: {Comment(Shorten(line.Text.Trim()))}");
        if (plan.Unsupported.Count > 0)
        {
            Add("");
            Add(partial ? "# NOT IMPORTED (--partial): the policy does not do what these lines do; it allows less or more than the ruleset here:"
                : "# Not imported:");
            foreach (var d in plan.Unsupported)
                Add($"#   {Comment(d.Location.ToString())}: {Comment(d.Message)}");
        }
        if (plan.Notes.Count > 0)
        {
            Add("");
            Add("# Import notes (differences that change no allow or deny verdict, and advice):");
            foreach (var d in plan.Notes)
                Add($"#   {Comment(d.ToString())} [{d.Code}]");
        }
        Add("");
        if (lint.Count == 0)
        {
            Add("# lint: no findings");
        }
        else
        {
            Add("# lint (netlinkfence lint on this policy):");
            foreach (var d in lint)
                Add($"#   {Comment(d.ToString())} [{d.Code}]");
        }
        return text.ToString();
    }

    private static string FateText(LineFate fate) => fate switch
    {
        LineFate.Entry => "allow entry",
        LineFate.BuiltIn => "built in",
        LineFate.Jump => "jump",
        LineFate.Denied => "denied",
        LineFate.Log => "log: settings",
        LineFate.NoEffect => "no effect",
        _ => "NOT IMPORTED",
    };

    private void Entry(ImportedEntry entry, string peerKey)
    {
        Cite("    ", entry.Lines);
        if (entry.Comment is { } comment && comment != entry.Name)
            Line($"    # comment: {Comment(comment)}");
        Line($"    - name: {entry.Name}");
        Line($"      {peerKey}: {List(Peers(entry))}");
        if (entry.Tcp.Count > 0)
            Line($"      tcp: {List(Ports(entry.Tcp))}");
        if (entry.Udp.Count > 0)
            Line($"      udp: {List(Ports(entry.Udp))}");
        if (entry.Owner is { } owner)
            Line($"      by: {{ {(IptablesValues.IsUid(owner) ? "uid" : "user")}: {owner} }}");
    }

    private List<string> Peers(ImportedEntry entry)
    {
        if (entry.Peers is null)
            return [entry.IPv6 ? "\"::/0\"" : "0.0.0.0/0"];
        var result = new List<string>();
        foreach (var item in entry.Peers)
        {
            if (item.Variable is { } v && _defineValues.ContainsKey(v) && !_literalVariables.Contains(v))
                result.Add("$" + v);
            else if (item.Range && item.Networks.Count > 1)
                result.Add(Quoted(RangeText(item.Networks)));
            else
                result.AddRange(item.Networks.Select(Address));
        }
        return result.Distinct().ToList();
    }

    private List<string> Ports(List<PortItem> ports)
    {
        var result = new List<string>();
        foreach (var item in ports)
        {
            if (item.Variable is { } v && _defineValues.ContainsKey(v) && !_literalVariables.Contains(v))
                result.Add("$" + v);
            else
                result.AddRange(item.Ranges.Select(PortText));
        }
        return result.Distinct().ToList();
    }

    /// <summary>A variable becomes a <c>define:</c> when every imported use of it is a whole address or port item of one kind.</summary>
    private void CollectDefines()
    {
        var addressUses = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var portUses = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var entry in plan.Egress.Concat(plan.Input).Concat(plan.Resolvers))
        {
            foreach (var item in entry.Peers ?? [])
            {
                if (item.Variable is { } v)
                    addressUses[v] = item.Networks.Select(Address).ToList();
            }
            foreach (var item in entry.Tcp.Concat(entry.Udp))
            {
                if (item.Variable is { } v)
                    portUses[v] = item.Ranges.Select(PortText).ToList();
            }
        }
        foreach (var (name, values) in addressUses.Concat(portUses))
        {
            if (addressUses.ContainsKey(name) && portUses.ContainsKey(name) || name.Length > 64)
                _literalVariables.Add(name);
            else
                _defineValues[name] = values;
        }
    }

    private void Cite(string indent, IEnumerable<IptablesLine> lines)
    {
        foreach (var line in lines.Distinct())
        {
            foreach (var before in rulesets.FirstOrDefault(r => r.File == line.File)?.CommentsBefore.GetValueOrDefault(line.Number) ?? [])
                Line($"{indent}# {Comment(before)}");
            Line($"{indent}# {Comment(line.ToString())}: {Comment(Shorten(line.Text.Trim()))}");
        }
    }

    private static string Address(IPNetwork network) => Quoted(IptablesValues.Format(network));

    /// <summary>FIRST-LAST of the networks an iprange was read as (in order, each next to the one before).</summary>
    private static string RangeText(IReadOnlyList<IPNetwork> networks) =>
        $"{networks[0].BaseAddress}-{AddressMath.ToAddress(AddressMath.Range(networks[^1]).Last, networks[0].BaseAddress.AddressFamily)}";

    /// <summary>IPv6 in double quotes: a plain scalar with ':' may read as a YAML mapping.</summary>
    private static string Quoted(string address) => address.Contains(':') ? $"\"{address}\"" : address;

    private static string PortText((int First, int Last) range)
    {
        int first = Math.Max(1, range.First);
        return first == range.Last ? first.ToString(CultureInfo.InvariantCulture) : $"{first}-{range.Last}";
    }

    private static string List(IEnumerable<string> items) => $"[{string.Join(", ", items)}]";

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";

    /// <summary>Text from the ruleset made safe for a YAML comment: no line breaks or control characters.</summary>
    internal static string Comment(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (char c in text)
            builder.Append(c < ' ' || c == '\u007f' || c is '\u0085' or '\u2028' or '\u2029' or '\ufeff' ? '?' : c);
        return builder.ToString();
    }

    private void Line(string line) => _text.Append(line).Append('\n');
}
