namespace NetlinkFence.Policy.Import;

/// <summary>
/// A list:set as a rule of one family matches it. The kernel tests a packet against each set the list holds and skips
/// a set of the other family (<c>ip_set_test</c>), so an iptables rule matches the union of the list's IPv4 sets and an
/// ip6tables rule that of its IPv6 sets: each list gets a view per family, an ordinary set holding that union, which
/// the rule then takes as it would take the set itself. A list whose sets are of both families names its views' variables
/// <c>NAME_v4</c> and <c>NAME_v6</c>, so the IPv4 entries never allow the IPv6 members (nor the other way round).
/// </summary>
internal static class IpsetLists
{
    /// <summary>Sets <see cref="IpsetSet.Views"/> of every list:set among <paramref name="sets"/>.</summary>
    public static void MakeViews(IEnumerable<IpsetSet> sets)
    {
        foreach (var list in sets.Where(s => s.IsList))
            list.Views = (View(list, ipv6: false), View(list, ipv6: true));
    }

    /// <summary>The set a rule matches by naming <paramref name="set"/>: the family's view of a list, else the set itself.</summary>
    public static IpsetSet Matched(IpsetSet set, bool ipv6) => set.Views is var (v4, v6) ? (ipv6 ? v6 : v4) : set;

    /// <summary>The sets whose members a policy may name: every set but the lists, and the lists' views of a family they hold sets of.</summary>
    public static IEnumerable<IpsetSet> Named(IEnumerable<IpsetSet> sets) =>
        sets.SelectMany(s => s.Views is var (v4, v6) ? new[] { v4, v6 }.Where(view => view.ListedSets!.Length > 0) : [s]);

    private static IpsetSet View(IpsetSet list, bool ipv6)
    {
        var listed = list.Listed.Where(s => s.IPv6 == ipv6).ToList();
        string family = ipv6 ? "inet6" : "inet";
        var view = new IpsetSet(list.Name, list.Type, ipv6, list.Declaration)
        {
            HasPorts = listed.Count > 0 && listed.All(s => s.HasPorts),
            ListedSets = string.Join(", ", listed.Select(s => s.Name)),
        };
        if (list.Listed.Any(s => s.IPv6 != ipv6))
            view.Variable = $"{list.Variable}_v{(ipv6 ? 6 : 4)}";
        view.Unsupported = list.Unsupported
            ?? (listed.Count == 0 ? $"it holds no set of family {family}, so a rule of that family matches nothing" : null)
            ?? (listed.FirstOrDefault(s => s.Unsupported is not null) is { } refused
                ? $"its set '{IptablesSaveParser.Printable(refused.Name)}' ({refused.Declaration}): {refused.Unsupported}" : null)
            ?? (listed.Any(s => s.HasPorts) && !view.HasPorts
                ? $"it holds address sets ({Names(listed.Where(s => !s.HasPorts))}) and address-and-port sets ({Names(listed.Where(s => s.HasPorts))}), which the kernel matches with different directions; the importer reads a list of one kind"
                : null);
        foreach (var set in listed)
        {
            foreach (var member in set.Members)
            {
                if (view.Held.Add(member))
                    view.Members.Add(member);
            }
            foreach (var member in set.PortMembers)
            {
                if (view.HeldPorts.Add(member))
                    view.PortMembers.Add(member);
            }
        }
        return view;
    }

    private static string Names(IEnumerable<IpsetSet> sets) => string.Join(", ", sets.Select(s => IptablesSaveParser.Printable(s.Name)));
}
