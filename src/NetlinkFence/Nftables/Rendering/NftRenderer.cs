using NetlinkFence.Interop.Uapi;
using System.Globalization;
using System.Text;
using NetlinkFence.Nftables.Expressions;

namespace NetlinkFence.Nftables.Rendering;

/// <summary>
/// Prints a table read back from the kernel in nft syntax, as <c>nft list table FAMILY NAME</c> prints it:
/// tab indentation, sets first then chains (each in the kernel's order) separated by blank lines, base chain
/// headers, counters with their values, comments, and set elements with nft's ordering, interval folding and
/// line breaking. Expression sequences nft prints as one statement are recognised (<c>ip daddr 192.0.2.1</c>,
/// <c>tcp dport 443</c>, <c>ct state established,related</c>, <c>ip daddr . tcp dport @set</c>, ...); a rule
/// containing anything else is printed whole as a <c>#</c> comment in <c>--debug=netlink</c> form, so nothing
/// is ever dropped silently and the output stays a valid <c>nft -f</c> file.
/// </summary>
/// <remarks>
/// <para>
/// nft prints <c>iif</c>/<c>oif</c> by resolving the interface index to a name in its own network namespace.
/// This renderer does not look anything up: without an <c>interfaceName</c> resolver it prints the index
/// (<c>iif 1</c>); with one it prints the quoted name (<c>iif "lo"</c>) whenever the resolver returns one.
/// </para>
/// <para>
/// Not rendered as nft does, because the object model does not hold the information: maps and verdict maps
/// (a named map prints as a <c>#</c> notice, a rule using one as a <c>#</c> comment of its expressions),
/// <c>typeof</c> set declarations (printed as <c>type</c>), set <c>size</c>/<c>policy</c>/<c>gc-interval</c>,
/// chain comments, named objects (counters, quotas, limits), flowtables, netdev/bridge/arp chain
/// devices and their priority names (numbers are printed).
/// </para>
/// <para>Thread-safe: instances hold no mutable state.</para>
/// </remarks>
public sealed class NftRenderer
{
    private readonly Func<uint, string?>? _interfaceName;

    /// <summary>Creates a renderer.</summary>
    /// <param name="interfaceName">
    /// Maps an interface index to its name for <c>iif</c>/<c>oif</c> (return null when unknown); null prints indexes.
    /// In the initial state of any network namespace, index 1 is <c>lo</c>.
    /// </param>
    public NftRenderer(Func<uint, string?>? interfaceName = null) => _interfaceName = interfaceName;

    /// <summary>The whole table, as <c>nft list table</c> prints it, ending with a newline.</summary>
    public string Render(TableContents contents) => Render(contents, null);

    /// <summary>The whole table with <paramref name="annotations"/> as <c>#</c> comment lines before sets and rules.</summary>
    public string Render(TableContents contents, RenderAnnotations? annotations)
    {
        ArgumentNullException.ThrowIfNull(contents);
        var rules = new RuleRenderer(_interfaceName, name => contents.Sets.FirstOrDefault(s => s.Set.Name == name));
        var text = new StringBuilder();
        text.Append("table ").Append(contents.Table.Family.ToNftName()).Append(' ').Append(NftSyntax.Name(contents.Table.Name, "table")).Append(" {\n");
        bool dormant = (contents.Table.Flags & (uint)NftTableFlags.DORMANT) != 0;
        if (dormant)
            text.Append("\tflags dormant\n");
        if (contents.Table.Comment is { } comment)
            text.Append("\tcomment ").Append(NftSyntax.Quote(comment, "comment of the table")).Append('\n');
        bool first = !dormant; // nft 1.0.6 leaves a blank line after the flags, none after the comment
        foreach (var set in contents.Sets)
        {
            if ((set.Set.Flags & SetFlags.Anonymous) != 0)
                continue; // printed inline in the rules that use it
            if (!first)
                text.Append('\n');
            first = false;
            AppendComments(text, "\t", annotations?.BeforeSet?.Invoke(set.Set));
            AppendSet(text, set);
        }
        foreach (var chain in contents.Chains)
        {
            if (!first)
                text.Append('\n');
            first = false;
            AppendChain(text, chain, contents.RulesOf(chain.Name), rules, annotations?.BeforeRule);
        }
        text.Append("}\n");
        return text.ToString();
    }

    /// <summary>
    /// An <c>nft -f</c> file that replaces the table atomically: create it if missing, delete it with everything in
    /// it, and re-create it whole (<c>table F N</c>, <c>delete table F N</c>, then <see cref="Render(TableContents, RenderAnnotations?)"/>).
    /// </summary>
    public string RenderReplacement(TableContents contents, RenderAnnotations? annotations)
    {
        ArgumentNullException.ThrowIfNull(contents);
        string table = $"table {contents.Table.Family.ToNftName()} {NftSyntax.Name(contents.Table.Name, "table")}";
        return $"{table}\ndelete {table}\n" + Render(contents, annotations);
    }

    /// <summary>
    /// <paramref name="text"/> made safe for the body of a <c>#</c> comment line: printable ASCII, with control
    /// characters, backslashes and non-ASCII as visible escapes (<c>\n</c>, <c>\x1b</c>, <c>\u00e9</c>), so a
    /// comment built from untrusted text (a file name, a string read back from the kernel) cannot end early.
    /// </summary>
    public static string CommentText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return NftSyntax.Comment(text);
    }

    /// <summary>One rule as nft prints it inside its chain, without indentation, e.g. <c>tcp dport 443 accept</c>.</summary>
    public string RenderRule(Rule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return new RuleRenderer(_interfaceName, null).Render(rule);
    }

    /// <summary>
    /// One rule as <c>nft --debug=netlink</c> prints it: a <c>FAMILY TABLE CHAIN</c> line, then one
    /// <c>  [ ... ]</c> line per expression, each line ending with a newline.
    /// </summary>
    public static string RenderNetlinkDebug(Rule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var text = new StringBuilder();
        text.Append(rule.Family.ToNftName()).Append(' ').Append(rule.Table).Append(' ').Append(rule.Chain).Append('\n');
        foreach (var expression in rule.Expressions)
            text.Append("  ").Append(NetlinkDebugFormatter.Format(expression)).Append('\n');
        return text.ToString();
    }

    /// <summary>One expression in <c>--debug=netlink</c> form, e.g. <c>[ meta load nfproto =&gt; reg 1 ]</c>.</summary>
    public static string RenderNetlinkDebug(Expression expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        return NetlinkDebugFormatter.Format(expression);
    }

    private static void AppendSet(StringBuilder text, SetContents contents)
    {
        var set = contents.Set;
        if ((set.Flags & (SetFlags.Map | SetFlags.Object)) != 0)
        {
            // Maps are not modelled (their data type and element data are not read back): say so rather than
            // print a map as if it were a set.
            text.Append("\t# map ").Append(NftSyntax.Comment(set.Name)).Append(": type ").Append(string.Join(" . ", set.Key.Select(k => k.ToNftName())))
                .Append(" : (data not decoded), ").Append(contents.Elements.Count(e => !e.IntervalEnd).ToString(CultureInfo.InvariantCulture))
                .Append(" elements; maps are not rendered\n");
            return;
        }
        text.Append("\tset ").Append(NftSyntax.Name(set.Name, "set")).Append(" {\n");
        text.Append("\t\ttype ").Append(string.Join(" . ", set.Key.Select(k => k.ToNftName()))).Append('\n');
        var flags = new List<string>();
        if ((set.Flags & SetFlags.Constant) != 0)
            flags.Add("constant");
        if ((set.Flags & SetFlags.Eval) != 0)
            flags.Add("dynamic");
        if ((set.Flags & SetFlags.Interval) != 0)
            flags.Add("interval");
        if ((set.Flags & SetFlags.Timeout) != 0 && set.Timeout is null)
            flags.Add("timeout"); // implied by, and not printed with, a default timeout
        if (flags.Count > 0)
            text.Append("\t\tflags ").Append(string.Join(',', flags)).Append('\n');
        if (set.Timeout is { } timeout)
            text.Append("\t\ttimeout ").Append(SetElementFormatter.Duration(timeout)).Append('\n');
        if (set.ElementCounters)
            text.Append("\t\tcounter\n");
        if (set.Comment is not null)
            text.Append("\t\tcomment ").Append(NftSyntax.Quote(set.Comment, $"comment of set {NftSyntax.Comment(set.Name)}")).Append('\n');
        if (SetElementFormatter.Format(set, contents.Elements) is { } elements)
            text.Append("\t\telements = { ").Append(elements).Append(" }\n");
        text.Append("\t}\n");
    }

    private static void AppendComments(StringBuilder text, string indent, IEnumerable<string>? lines)
    {
        foreach (string line in lines ?? [])
            text.Append(indent).Append("# ").Append(NftSyntax.Comment(line)).Append('\n');
    }

    private static void AppendChain(StringBuilder text, Chain chain, IEnumerable<Rule> rules, RuleRenderer renderer, Func<Rule, IEnumerable<string>>? annotate)
    {
        text.Append("\tchain ").Append(NftSyntax.Name(chain.Name, "chain")).Append(" {\n");
        if (chain.Hook is { } hook)
        {
            text.Append("\t\ttype ").Append(NftSyntax.Name(hook.Type, "chain type")).Append(" hook ").Append(HookName(hook.Hook))
                .Append(" priority ").Append(Priority(chain.Family, hook)).Append("; policy ")
                .Append(hook.Policy == ChainPolicy.Drop ? "drop" : "accept").Append(";\n");
        }
        foreach (var rule in rules)
        {
            AppendComments(text, "\t\t", annotate?.Invoke(rule));
            text.Append("\t\t").Append(renderer.Render(rule)).Append('\n');
        }
        text.Append("\t}\n");
    }

    private static string HookName(HookPoint hook) => hook switch
    {
        HookPoint.Prerouting => "prerouting",
        HookPoint.Input => "input",
        HookPoint.Forward => "forward",
        HookPoint.Output => "output",
        HookPoint.Postrouting => "postrouting",
        _ => ((uint)hook).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>nft's standard priority names for ip, ip6 and inet (<c>filter</c> is 0), with an offset of up to 10.</summary>
    private static string Priority(NftFamily family, ChainHook hook)
    {
        string number = hook.Priority.ToString(CultureInfo.InvariantCulture);
        if (family is not (NftFamily.Inet or NftFamily.Ip or NftFamily.Ip6))
            return number;
        var names = new List<(string Name, int Value)> { ("raw", -300), ("mangle", -150), ("filter", 0), ("security", 50) };
        if (hook.Hook == HookPoint.Prerouting)
            names.Add(("dstnat", -100));
        if (hook.Hook == HookPoint.Postrouting)
            names.Add(("srcnat", 100));
        foreach (var (name, value) in names)
        {
            int offset = hook.Priority - value;
            if (offset == 0)
                return name;
            if (offset is > 0 and <= 10)
                return $"{name} + {offset}";
            if (offset is < 0 and >= -10)
                return $"{name} - {-offset}";
        }
        return number;
    }
}
