namespace NetlinkFence.Policy.Import;

/// <summary>
/// Joins the entries one rule each became into the entries a person would write: iptables-save splits
/// <c>-d a,b</c> into one line per address (same comment, same ports), and a DNS rule often comes as a udp and a tcp
/// line; entries of the IPv4 and IPv6 files with the same comment become one. Names come from comments.
/// </summary>
internal static class EntryMerger
{
    public static void Merge(ImportPlan plan)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var list in new[] { plan.Input, plan.Egress })
        {
            var merged = Adjacent(list);
            merged = AcrossFamilies(merged);
            foreach (var entry in merged)
                entry.Name = EntryNames.Unique(Slug(entry.Comment) ?? $"{(entry.Egress ? "allow" : "input")}{(entry.IPv6 ? "6" : "")}-line-{entry.Lines[^1].Number}", taken, "learned");
            list.Clear();
            list.AddRange(merged);
        }
        // Both udp and tcp 53 and nothing else, to single addresses: exactly what egress.dns.resolvers allows.
        foreach (var entry in plan.Egress.ToList())
        {
            // Resolvers are for every process: an entry of one user's stays an entry.
            if (entry.Owner is null && entry.Tcp is [{ Ranges: [(53, 53)], Variable: null }] && entry.Udp is [{ Ranges: [(53, 53)], Variable: null }]
                && entry.Peers is { Count: > 0 } peers && peers.All(p => p.Networks.All(n => n.PrefixLength == n.BaseAddress.GetAddressBytes().Length * 8)))
            {
                plan.Egress.Remove(entry);
                plan.Resolvers.Add(entry);
                foreach (var line in entry.Lines)
                {
                    int i = plan.Fates.FindIndex(f => f.Line == line && f.Fate == LineFate.Entry);
                    if (i >= 0)
                        plan.Fates[i] = (line, LineFate.Entry, "egress.dns.resolvers (udp and tcp 53)");
                }
            }
        }
    }

    /// <summary>A comment as a name: lower case, every run of other characters one '-' (null when nothing is left).</summary>
    private static string? Slug(string? comment)
    {
        if (comment is null)
            return null;
        var slug = new System.Text.StringBuilder();
        foreach (char c in comment.ToLowerInvariant())
        {
            bool keep = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_';
            if (keep)
                slug.Append(c);
            else if (slug.Length > 0 && slug[^1] != '-')
                slug.Append('-');
        }
        string text = slug.ToString().Trim('-');
        return text.Length == 0 ? null : text;
    }

    private static List<ImportedEntry> Adjacent(List<ImportedEntry> entries)
    {
        var result = new List<ImportedEntry>();
        foreach (var entry in entries)
        {
            if (result.Count > 0 && result[^1] is var last && last.IPv6 == entry.IPv6 && last.Comment == entry.Comment && last.Owner == entry.Owner)
            {
                bool samePorts = ImportedEntry.Spell(last.Tcp) == ImportedEntry.Spell(entry.Tcp) && ImportedEntry.Spell(last.Udp) == ImportedEntry.Spell(entry.Udp);
                if (samePorts && last.Peers is not null && entry.Peers is not null)
                {
                    last.Peers.AddRange(entry.Peers.Where(p => !last.Peers.Any(q => q.Spelling == p.Spelling)));
                    last.Lines.AddRange(entry.Lines);
                    continue;
                }
                if (ImportedEntry.Spell(last.Peers) == ImportedEntry.Spell(entry.Peers) && (last.Tcp.Count == 0 && entry.Tcp.Count > 0 && entry.Udp.Count == 0 || last.Udp.Count == 0 && entry.Udp.Count > 0 && entry.Tcp.Count == 0))
                {
                    last.Tcp.AddRange(entry.Tcp);
                    last.Udp.AddRange(entry.Udp);
                    last.Lines.AddRange(entry.Lines);
                    continue;
                }
            }
            result.Add(entry);
        }
        return result;
    }

    private static List<ImportedEntry> AcrossFamilies(List<ImportedEntry> entries)
    {
        var result = new List<ImportedEntry>();
        foreach (var entry in entries)
        {
            var twin = entry.IPv6 && entry.Comment is not null
                ? result.FirstOrDefault(e => !e.IPv6 && e.Comment == entry.Comment && e.Owner == entry.Owner && e.Peers is not null && entry.Peers is not null
                    && ImportedEntry.Spell(e.Tcp) == ImportedEntry.Spell(entry.Tcp) && ImportedEntry.Spell(e.Udp) == ImportedEntry.Spell(entry.Udp))
                : null;
            if (twin is null)
            {
                result.Add(entry);
                continue;
            }
            twin.Peers!.AddRange(entry.Peers!);
            twin.Lines.AddRange(entry.Lines);
        }
        return result;
    }
}
