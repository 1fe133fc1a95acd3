using System.Globalization;
using System.Net.Sockets;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace NetlinkFence.Policy.Learning;

/// <summary>The policy file with suggested entries added, and the change as a unified diff.</summary>
/// <param name="FileName">The policy file.</param>
/// <param name="Original">Its text.</param>
/// <param name="Merged">The text with the entries inserted under <c>egress.allow</c>; everything else byte for byte as it was.</param>
/// <param name="Diff">A unified diff from <paramref name="Original"/> to <paramref name="Merged"/> (empty when nothing was added).</param>
/// <param name="NewFindings">Lint findings of the merged policy that the original did not have.</param>
public sealed record PolicyChange(string FileName, string Original, string Merged, string Diff, IReadOnlyList<PolicyDiagnostic> NewFindings);

/// <summary>
/// Adds suggested entries to a policy FILE as text: the user's comments, order and formatting stay exactly as they
/// are; the entries (each with comments saying how often and when it was denied) are inserted after the last
/// <c>egress.allow</c> item, in that list's indentation. The result is loaded and linted before it is returned.
/// </summary>
public static class PolicyMerger
{
    private const int Context = 3;

    /// <summary>
    /// Inserts <paramref name="entries"/> into <paramref name="text"/> (the file <paramref name="fileName"/>). Throws
    /// <see cref="PolicyException"/> when the policy's <c>egress.allow</c> is written in a form text insertion cannot
    /// extend (a non-empty <c>[...]</c> list), or when the merged policy would not load.
    /// </summary>
    public static PolicyChange Merge(string text, string fileName, IReadOnlyList<SuggestedEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
            return new PolicyChange(fileName, text, text, "", []);
        string newline = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var original = PolicyLoader.Load(text, fileName);
        string merged = Insert(text, fileName, newline, entries);
        EgressPolicy loaded;
        try
        {
            loaded = PolicyLoader.Load(merged, fileName);
        }
        catch (PolicyException e)
        {
            throw new PolicyException(e.Diagnostics.Select(d => d with { Message = "the merged policy would not load: " + d.Message }).ToList());
        }
        var before = PolicyLinter.Lint(original).Select(f => (f.Code, f.Severity)).ToList();
        var fresh = new List<PolicyDiagnostic>();
        foreach (var finding in PolicyLinter.Lint(loaded))
        {
            int at = before.IndexOf((finding.Code, finding.Severity));
            if (at >= 0)
                before.RemoveAt(at);
            else
                fresh.Add(finding);
        }
        return new PolicyChange(fileName, text, merged, UnifiedDiff(text, merged, fileName), fresh);
    }

    /// <summary>The YAML of one entry (comment lines, then the item), each line prefixed with <paramref name="indent"/> spaces.</summary>
    internal static IEnumerable<string> Render(SuggestedEntry entry, int indent)
    {
        string pad = new(' ', indent), inner = new(' ', indent + 2);
        string named = entry.NameSource switch
        {
            NameSource.Pin => $" ({entry.HostName}, pinned in hosts:)",
            NameSource.Resolved => $" ({string.Join(", ", entry.Addresses)} is {entry.HostName}, resolved by the policy)",
            NameSource.ReverseDns => $" ({string.Join(", ", entry.Addresses)} is {entry.HostName} by reverse DNS: check it before you trust it)",
            _ => "",
        };
        yield return $"{pad}# learned by 'netlinkfence learn'{named}: {entry.Count} denial(s), first {Time(entry.FirstSeen)}, last {Time(entry.LastSeen)}";
        foreach (var port in entry.Ports)
            yield return $"{pad}#   {port.Flow}: {port.Count} x, first {Time(port.FirstSeen)}, last {Time(port.LastSeen)}"
                + (port.Users.Count > 0 ? $", from {string.Join(", ", port.Users)}" : "")
                + (port.Cgroups.Count > 0 ? $"; cgroups {OneLine(string.Join(", ", port.Cgroups))}" : "");
        if (entry.TooManySenders > 0)
            yield return $"{pad}#   sent by {entry.TooManySenders} different services or users: no 'by:' suggested, the entry is open to every process";
        else if (entry.By.Count > 0 && entry.UnknownCgroup > 0)
            yield return $"{pad}#   {entry.UnknownCgroup} denial(s) came from sockets closed before their cgroup was read: check that 'by:' names every sender";
        yield return $"{pad}- name: {entry.Name}";
        yield return $"{inner}to: [{string.Join(", ", entry.To.Select(Scalar))}]";
        foreach (var protocol in new[] { ProtocolType.Tcp, ProtocolType.Udp })
        {
            var ports = entry.Ports.Where(p => p.Protocol == protocol).Select(p => p.Port.ToString(CultureInfo.InvariantCulture)).ToList();
            if (ports.Count > 0)
                yield return $"{inner}{(protocol == ProtocolType.Tcp ? "tcp" : "udp")}: [{string.Join(", ", ports)}]";
        }
        if (entry.By.Count > 0)
            yield return $"{inner}by: {By(entry.By)}";
    }

    /// <summary><c>{ unit: chrony.service }</c>, or a list of them: the <c>by:</c> value in flow style, on one line.</summary>
    internal static string By(IReadOnlyList<ServiceScope> by)
    {
        var items = by.Select(s => $"{{ {s.Kind.ToString().ToLowerInvariant()}: {ScopeValue(s.Value)} }}").ToList();
        return items.Count == 1 ? items[0] : $"[{string.Join(", ", items)}]";
    }

    // Unit names, paths and user names are plain scalars when they are plainly safe in a flow collection; else
    // double-quoted, with '\', '"' and control characters escaped (a cgroup directory may be named anything).
    private static string ScopeValue(string value)
    {
        if (value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '/' or '@' or '-') && value[0] is not ('-' or '.' or '@'))
            return value;
        var quoted = new StringBuilder("\"");
        foreach (char c in value)
        {
            if (c is '\\' or '"')
                quoted.Append('\\').Append(c);
            else if (char.IsControl(c))
                quoted.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            else
                quoted.Append(c);
        }
        return quoted.Append('"').ToString();
    }

    /// <summary>Text for a comment line: a cgroup directory's name may hold a line break, which would end the comment.</summary>
    private static string OneLine(string text) => string.Concat(text.Select(c => char.IsControl(c) ? '?' : c));

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    // IPv6 addresses are quoted (a plain scalar with ':' is legal but easy to misread); names and IPv4 are plain.
    private static string Scalar(string value) => value.Contains(':', StringComparison.Ordinal) ? $"\"{value}\"" : value;

    /// <summary>The text with the entries inserted (see <see cref="Merge"/>).</summary>
    private static string Insert(string text, string fileName, string newline, IReadOnlyList<SuggestedEntry> entries)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        bool endsWithNewline = text.EndsWith('\n');
        if (endsWithNewline)
            lines.RemoveAt(lines.Count - 1);
        var root = ParseRoot(text);
        var egressKey = root?.Children.Keys.OfType<YamlScalarNode>().FirstOrDefault(k => k.Value == "egress");
        List<string> block;
        int at;
        if (egressKey is null || root!.Children[egressKey] is YamlScalarNode { Value: null or "" })
        {
            // No egress (or an empty one): a new section at the end of the file (or after the empty key).
            at = egressKey is null ? lines.Count : (int)egressKey.Start.Line;
            if (egressKey is not null)
                lines[at - 1] = lines[at - 1].TrimEnd();
            block = egressKey is null ? ["egress:", "  allow:"] : ["  allow:"];
            block.AddRange(entries.SelectMany(e => Render(e, 4)));
        }
        else if (root.Children[egressKey] is YamlMappingNode { Style: not MappingStyle.Flow } egress)
        {
            var allowKey = egress.Children.Keys.OfType<YamlScalarNode>().FirstOrDefault(k => k.Value == "allow");
            if (allowKey is null)
            {
                int childIndent = (int)egress.Children.Keys.First().Start.Column - 1;
                at = EndOfBlock(lines, (int)egressKey.Start.Line - 1, (int)egressKey.Start.Column - 1);
                block = [$"{new string(' ', childIndent)}allow:", .. entries.SelectMany(e => Render(e, childIndent + 2))];
            }
            else
            {
                (at, block) = IntoAllow(lines, fileName, allowKey, egress.Children[allowKey], entries);
            }
        }
        else
        {
            throw Unmergeable(fileName, egressKey, "'egress:' is not a block mapping");
        }
        lines.InsertRange(at, block);
        return string.Join(newline, lines) + (endsWithNewline ? newline : "");
    }

    private static (int At, List<string> Block) IntoAllow(List<string> lines, string fileName, YamlScalarNode key, YamlNode value, IReadOnlyList<SuggestedEntry> entries)
    {
        int keyLine = (int)key.Start.Line - 1, keyIndent = (int)key.Start.Column - 1;
        switch (value)
        {
            case YamlSequenceNode { Style: SequenceStyle.Block } list when list.Children.Count > 0:
            {
                // After the last item: every following line indented deeper than its dash (or blank) still belongs to it.
                var last = list.Children[^1];
                int dashIndent = (int)list.Start.Column - 1;
                return (EndOfBlock(lines, (int)last.Start.Line - 1, dashIndent), entries.SelectMany(e => Render(e, dashIndent)).ToList());
            }
            case YamlSequenceNode { Style: SequenceStyle.Flow } list when list.Children.Count == 0:
            {
                // "allow: []" becomes "allow:" followed by a block list.
                // (YamlDotNet's marks of an empty flow sequence do not span it: find its ']' in the text.)
                int line = (int)list.Start.Line - 1;
                string current = lines[line];
                int from = (int)list.Start.Column - 1;
                int close = current.IndexOf(']', from);
                if (current[from] != '[' || close < 0 || current[(from + 1)..close].Trim().Length != 0)
                    throw Unmergeable(fileName, key, "'allow: [' and ']' are on different lines");
                int to = close + 1;
                lines[line] = (current[..from].TrimEnd() + " " + current[to..].TrimStart()).TrimEnd();
                return (line + 1, entries.SelectMany(e => Render(e, keyIndent + 2)).ToList());
            }
            case YamlScalarNode { Value: null or "" }:
                return (keyLine + 1, entries.SelectMany(e => Render(e, keyIndent + 2)).ToList());
            default:
                throw Unmergeable(fileName, key, "'egress.allow' is a [...] list with entries");
        }
    }

    /// <summary>The line index after the block that starts at <paramref name="start"/>: lines indented deeper than <paramref name="indent"/>, or blank; trailing blank lines stay after it.</summary>
    private static int EndOfBlock(List<string> lines, int start, int indent)
    {
        int end = start + 1;
        for (int i = start + 1; i < lines.Count; i++)
        {
            string line = lines[i];
            if (line.Trim().Length == 0)
                continue;
            if (line.Length - line.TrimStart(' ').Length <= indent)
                break;
            end = i + 1;
        }
        return end;
    }

    private static YamlMappingNode? ParseRoot(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text.StartsWith('\uFEFF') ? text[1..] : text));
        return stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode as YamlMappingNode;
    }

    private static PolicyException Unmergeable(string fileName, YamlNode at, string what) =>
        new([new PolicyDiagnostic(Severity.Error, new SourceLocation(fileName, (int)at.Start.Line, (int)at.Start.Column),
            $"{what}: learn adds entries as text and cannot extend it", "write egress.allow as a block list (one '- name:' item per entry), then run learn again", "learn-cannot-merge")]);

    /// <summary>A unified diff with one hunk around the changed region (the merge changes one contiguous region).</summary>
    internal static string UnifiedDiff(string original, string merged, string fileName)
    {
        var a = Lines(original);
        var b = Lines(merged);
        int prefix = 0;
        while (prefix < a.Count && prefix < b.Count && a[prefix] == b[prefix])
            prefix++;
        int suffix = 0;
        while (suffix < a.Count - prefix && suffix < b.Count - prefix && a[^(suffix + 1)] == b[^(suffix + 1)])
            suffix++;
        if (prefix == a.Count && prefix == b.Count)
            return "";
        int start = Math.Max(0, prefix - Context);
        int endA = Math.Min(a.Count, a.Count - suffix + Context), endB = Math.Min(b.Count, b.Count - suffix + Context);
        var diff = new StringBuilder();
        diff.Append("--- ").Append(fileName).Append('\n');
        diff.Append("+++ ").Append(fileName).Append(" (learned)").Append('\n');
        diff.Append(CultureInfo.InvariantCulture, $"@@ -{Range(start, endA - start)} +{Range(start, endB - start)} @@\n");
        for (int i = start; i < prefix; i++)
            diff.Append(' ').Append(a[i]).Append('\n');
        for (int i = prefix; i < a.Count - suffix; i++)
            diff.Append('-').Append(a[i]).Append('\n');
        for (int i = prefix; i < b.Count - suffix; i++)
            diff.Append('+').Append(b[i]).Append('\n');
        for (int i = a.Count - suffix; i < endA; i++)
            diff.Append(' ').Append(a[i]).Append('\n');
        return diff.ToString();
    }

    private static string Range(int start, int count) => count == 0 ? $"{start},0" : $"{start + 1},{count}";

    private static List<string> Lines(string text)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (text.EndsWith('\n'))
            lines.RemoveAt(lines.Count - 1);
        return lines;
    }
}
