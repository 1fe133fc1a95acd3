using System.Net;
using System.Net.Sockets;
using NetlinkFence.Nftables;
using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Policy;

/// <summary>
/// What a running policy may hold in its egress allow sets besides what <c>apply</c> put there (see
/// <see cref="TableDiff.CompareRunning"/>): grants are read back from the elements' userdata
/// (<see cref="AllowSetModel.FromKernel"/>) and judged one by one against the policy's entries.
/// </summary>
internal static class RunningTableCheck
{
    /// <summary>A window's elements may outlive its <c>window:</c> by this much (timeouts count in milliseconds, clocks tick).</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(2);

    public static void CompareAllowSets(CompiledPolicy policy, TableContents expected, TableContents live, DateTimeOffset now, List<TableDifference> differences)
    {
        var entries = policy.Source.Policy.Egress.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var order = policy.Source.Policy.Egress.Select((e, i) => (e.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        foreach (var liveSet in live.Sets.Where(s => LivePolicy.IsEgressAllowSet(s.Set.Name)))
        {
            if (expected.Sets.FirstOrDefault(s => s.Set.Name == liveSet.Set.Name) is not { } expectedSet)
                continue; // a set the policy does not have: the structural comparison said so
            if (SameElements(expectedSet.Elements, liveSet.Elements))
                continue; // exactly what apply commits (no window open, no name refreshed, nothing added): nothing to judge grant by grant
            string subject = $"set {liveSet.Set.Name}";
            bool scoped = liveSet.Set.Key.Count == 4;
            var held = scoped
                ? AllowSetModel.FromKernelByScope(liveSet.Set, liveSet.Elements, now).Values.SelectMany(m => m.Grants).ToList()
                : AllowSetModel.FromKernel(liveSet.Set, liveSet.Elements, now).Grants.ToList();
            var want = scoped
                ? AllowSetModel.FromKernelByScope(expectedSet.Set, expectedSet.Elements, now).Values.SelectMany(m => m.Grants).ToList()
                : AllowSetModel.FromKernel(expectedSet.Set, expectedSet.Elements, now).Grants.ToList();

            // Permanent literal destinations (networks in to:, names pinned in hosts:): exactly the policy's (planned
            // the same way, so pieces compare equal).
            var heldLiteral = held.Where(g => g.Expires is null && IsLiteral(policy.Source, entries, g)).ToList();
            var wantLiteral = want.Where(g => IsLiteral(policy.Source, entries, g)).ToList();
            var heldElements = Planned(expectedSet.Set, heldLiteral, order, now);
            var wantElements = Planned(expectedSet.Set, wantLiteral, order, now);
            foreach (var element in heldElements.Except(wantElements))
                differences.Add(new(DifferenceKind.Added, subject, $"permanent element {Describe(element, expectedSet.Set)} is not one of the policy's destinations"));
            foreach (var element in wantElements.Except(heldElements))
                differences.Add(new(DifferenceKind.Missing, subject, $"element {Describe(element, expectedSet.Set)} (a destination of the policy)"));

            var followed = held.Where(g => g.Expires is not null || !IsLiteral(policy.Source, entries, g)).ToList();
            foreach (var grant in followed)
            {
                if (Why(entries, policy.Source, grant, now) is { } reason)
                    differences.Add(new(DifferenceKind.Added, subject, $"element {Text(grant)} (\"{grant.Entry}\""
                        + (grant.Expires is { } e ? $", for {(e - now).TotalSeconds:0}s" : ", permanent") + $"): {reason}"));
            }
            // A followed name's addresses move, so which ones are held cannot be checked; that the entry holds some can.
            // An element shared by more entries than its userdata can name may hold the entry's grant unnamed: not missing.
            var unlisted = AllowSetModel.UnlistedServices(liveSet.Set, liveSet.Elements);
            foreach (var missing in want.Where(g => !IsLiteral(policy.Source, entries, g))
                         .Select(g => (g.Entry, g.Protocol, g.Ports, g.Scope)).Distinct()
                         .Where(k => !followed.Any(g => g.Entry == k.Entry && g.Protocol == k.Protocol && g.Scope == k.Scope && g.Ports.Overlaps(k.Ports)) // pieces may be cut differently
                             && !unlisted.Any(u => u.Protocol == k.Protocol && u.Ports.Overlaps(k.Ports))))
                differences.Add(new(DifferenceKind.Missing, subject, $"\"{missing.Entry}\": no address of its names on {missing.Protocol.ToString().ToLowerInvariant()} . {missing.Ports}"));
        }
    }

    /// <summary>
    /// Whether the set holds the compiled elements and nothing else, none of them timed: keys, ends and userdata (the
    /// contributors) equal (<see cref="SetElement.Equals(SetElement)"/>). The grant-by-grant judgement below accepts such
    /// a set; this answers it without modelling and re-planning every element (most of verify's time at 10,000 entries).
    /// </summary>
    private static bool SameElements(IReadOnlyList<SetElement> expected, IReadOnlyList<SetElement> live)
    {
        if (expected.Count != live.Count)
            return false;
        foreach (var element in live)
            if (element.Timeout is not null || element.Expiration is not null)
                return false;
        return new HashSet<SetElement>(expected).SetEquals(live);
    }

    /// <summary>Why <paramref name="grant"/> (timed, or permanent but not a literal destination) is not the policy's; null when it is.</summary>
    private static string? Why(Dictionary<string, AllowEntry> entries, ResolvedPolicy source, AllowGrant grant, DateTimeOffset now)
    {
        if (!entries.TryGetValue(grant.Entry, out var entry))
            return "no egress entry of the policy has that name";
        var ports = grant.Protocol == ProtocolType.Tcp ? entry.Tcp : grant.Protocol == ProtocolType.Udp ? entry.Udp : [];
        if (!ports.Any(p => p.First <= grant.Ports.First && grant.Ports.Last <= p.Last))
            return $"not one of the entry's {grant.Protocol.ToString().ToLowerInvariant()} ports";
        if ((grant.Scope is null) != (entry.By.Count == 0))
            return entry.By.Count == 0 ? "the entry is not scoped to a service" : "the entry is scoped to a service";
        if (grant.Expires is not { } expires)
        {
            // A name's address as a one-shot apply left it: one the name resolves to now.
            var names = entry.Peers.Select(p => p.HostName).OfType<string>();
            return names.Any(n => source.Names.TryGetValue(n, out var r) && r.Addresses.Any(a => grant.Network.Contains(a) && grant.Network.PrefixLength == (a.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)))
                ? null : "not an address of the entry's destinations";
        }
        if (entry.Window is { } window && expires > now + window + Slack)
            return $"open for longer than the entry's window ({WindowDuration.Format(window)})";
        // A followed name may resolve to any address; without names, only the entry's own networks can be granted.
        if (!entry.Peers.Any(p => p.HostName is { } name && !source.Policy.Hosts.ContainsKey(name)) && !IsLiteral(source, entries, grant))
            return "not one of the entry's destinations (the entry names no host whose addresses could have moved)";
        return null; // an open window or a name's refreshed address
    }

    /// <summary>Whether the grant is inside a network the entry names, or an address of a name pinned in <c>hosts:</c>.</summary>
    private static bool IsLiteral(ResolvedPolicy source, Dictionary<string, AllowEntry> entries, AllowGrant grant) =>
        entries.TryGetValue(grant.Entry, out var entry) && entry.Peers.Any(p =>
            p.Network is { } n ? n.Contains(grant.Network.BaseAddress) && n.PrefixLength <= grant.Network.PrefixLength
            : p.HostName is { } name && source.Policy.Hosts.TryGetValue(name, out var pinned)
              && pinned.Any(a => grant.Network.Contains(a) && grant.Network.PrefixLength == (a.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)));

    /// <summary>The elements these grants plan to, ranked in policy order (so the same grants give the same elements).</summary>
    private static HashSet<SetElement> Planned(NftSet set, List<AllowGrant> grants, Dictionary<string, int> order, DateTimeOffset now)
    {
        var elements = new HashSet<SetElement>();
        foreach (var byScope in grants.GroupBy(g => g.Scope))
            elements.UnionWith(new AllowSetModel(set, byScope.OrderBy(g => order.GetValueOrDefault(g.Entry, int.MaxValue)), byScope.Key).Elements(now));
        return elements;
    }

    private static string Describe(SetElement element, NftSet set) => TableDiff.Describe(set, element);

    /// <summary>A grant as nft writes an element: <c>10.9.9.9 . tcp . 22</c>.</summary>
    private static string Text(AllowGrant grant)
    {
        var n = grant.Network;
        string address = n.PrefixLength == (n.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128) ? n.BaseAddress.ToString() : n.ToString();
        return $"{address} . {grant.Protocol.ToString().ToLowerInvariant()} . {grant.Ports}";
    }
}
