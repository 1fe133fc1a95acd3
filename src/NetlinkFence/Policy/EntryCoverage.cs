using System.Net;
using System.Net.Sockets;
using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Policy;

/// <summary>
/// Lint findings about an entry that other entries make pointless. The unscoped permanent entries' set is matched
/// first in the output chain, and a piece several entries share is counted under the first of them
/// (<see cref="AllowBox.Comment"/>), so an entry all of whose destinations and ports such entries already allow is:
/// <list type="bullet">
/// <item><c>window-always-open</c>: a window whose traffic is allowed all the time;</item>
/// <item><c>scope-without-effect</c>: a <c>by:</c> limit that every process gets around;</item>
/// <item><c>redundant-entry</c>: a permanent entry after the ones that allow all of it, whose counter stays at 0.</item>
/// </list>
/// Only what is known without DNS takes part (addresses, networks, <c>hosts:</c> pins): an entry that names a host
/// DNS resolves is never reported, and its names cover nothing. The pieces are planned as the compiler plans them.
/// </summary>
internal static class EntryCoverage
{
    public static IEnumerable<PolicyDiagnostic> Findings(EgressPolicy policy) =>
        Findings(policy.Egress, policy, anySourceWhenEmpty: false).Concat(Findings(policy.Input, policy, anySourceWhenEmpty: true));

    private static IEnumerable<PolicyDiagnostic> Findings(IReadOnlyList<AllowEntry> entries, EgressPolicy policy, bool anySourceWhenEmpty)
    {
        var v4 = new List<PlacedGrant>();
        var v6 = new List<PlacedGrant>();
        var fullyKnown = new bool[entries.Count];
        for (int rank = 0; rank < entries.Count; rank++)
            fullyKnown[rank] = AddKnownGrants(entries[rank], rank, policy, anySourceWhenEmpty, v4, v6);

        var contributes = new bool[entries.Count];
        var uncovered = new bool[entries.Count];
        var coverers = new SortedSet<int>[entries.Count];
        foreach (var family in new[] { v4, v6 })
        {
            foreach (var cluster in ElementPlanner.Clusters(family))
            {
                foreach (var box in ElementPlanner.Plan(cluster))
                {
                    foreach (var target in box.Contributors)
                    {
                        contributes[target.Rank] = true;
                        bool covered = false;
                        foreach (int coverer in Coverers(entries, box.Contributors, target.Rank))
                        {
                            (coverers[target.Rank] ??= []).Add(coverer);
                            covered = true;
                        }
                        if (!covered)
                            uncovered[target.Rank] = true;
                    }
                }
            }
        }

        for (int rank = 0; rank < entries.Count; rank++)
        {
            if (fullyKnown[rank] && contributes[rank] && !uncovered[rank])
                yield return Finding(entries[rank], coverers[rank].Select(c => entries[c]).ToList());
        }
    }

    /// <summary>
    /// The contributors of a piece that allow it to the target's traffic all the time: permanent, without <c>by:</c>,
    /// and, for a permanent unscoped target, before it (the piece is counted under the first).
    /// </summary>
    private static IEnumerable<int> Coverers(IReadOnlyList<AllowEntry> entries, Contributor[] contributors, int target)
    {
        var entry = entries[target];
        bool mustComeFirst = entry.Window is null && entry.By.Count == 0;
        foreach (var contributor in contributors)
        {
            var other = entries[contributor.Rank];
            if (contributor.Rank != target && other.Window is null && other.By.Count == 0 && (!mustComeFirst || contributor.Rank < target))
                yield return contributor.Rank;
        }
    }

    /// <summary>Adds the grants of what is known of the entry's peers; false when a DNS name decides part of it.</summary>
    private static bool AddKnownGrants(AllowEntry entry, int rank, EgressPolicy policy, bool anySourceWhenEmpty, List<PlacedGrant> v4, List<PlacedGrant> v6)
    {
        var networks = new List<IPNetwork>();
        bool fullyKnown = true;
        if (entry.Peers.Count == 0 && anySourceWhenEmpty)
            networks.AddRange([IPNetwork.Parse("0.0.0.0/0"), IPNetwork.Parse("::/0")]);
        foreach (var peer in entry.Peers)
        {
            if (peer.Network is { } network)
                networks.Add(network);
            else if (peer.HostName is { } host && policy.Hosts.TryGetValue(host, out var pinned))
                networks.AddRange(pinned.Select(a => new IPNetwork(a, AddressMath.Bits(a.AddressFamily))));
            else
                fullyKnown = false;
        }
        foreach (var network in networks)
        {
            var (first, last) = AddressMath.Range(network);
            var family = network.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? v4 : v6;
            foreach (var ports in entry.Tcp)
                family.Add(new PlacedGrant(entry.Name, null, (byte)ProtocolType.Tcp, first, last, ports, rank));
            foreach (var ports in entry.Udp)
                family.Add(new PlacedGrant(entry.Name, null, (byte)ProtocolType.Udp, first, last, ports, rank));
        }
        return fullyKnown;
    }

    private static PolicyDiagnostic Finding(AllowEntry entry, IReadOnlyList<AllowEntry> coverers)
    {
        string others = string.Join(" and ", coverers.Select(c => $"'{c.Name}' ({c.Location})"));
        string allow = coverers.Count == 1 ? "allows" : "allow";
        if (entry.Window is not null)
            return new PolicyDiagnostic(Severity.Warning, entry.Location,
                $"window entry '{entry.Name}' is open all the time: {others} {allow} all of it permanently, so opening or closing it changes nothing",
                "remove these destinations or ports from the permanent entries, or drop the window entry", "window-always-open");
        if (entry.By.Count > 0)
            return new PolicyDiagnostic(Severity.Warning, entry.Location,
                $"'{entry.Name}' is limited to {string.Join(" or ", entry.By.Select(s => $"{s.Kind.ToString().ToLowerInvariant()} {s.Value}"))}, but {others} {allow} all of it to every process: the 'by:' limit has no effect",
                "remove these destinations or ports from the unscoped entries, or give them a 'by:' too", "scope-without-effect");
        return new PolicyDiagnostic(Severity.Warning, entry.Location,
            $"'{entry.Name}' allows nothing that {others} {(coverers.Count == 1 ? "does" : "do")} not allow already: its traffic is counted under '{coverers[0].Name}', so its counter stays at 0",
            $"remove '{entry.Name}', or move it above '{coverers[0].Name}' to count its traffic on its own", "redundant-entry");
    }
}
