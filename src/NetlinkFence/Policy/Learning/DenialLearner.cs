using System.Net;
using System.Net.Sockets;
using NetlinkFence.Logging;

namespace NetlinkFence.Policy.Learning;

/// <summary>
/// Turns a stream of denials into suggested allow entries (<c>netlinkfence learn</c>): egress TCP/UDP denials are
/// counted per destination address, protocol and port; <see cref="SuggestAsync"/> then groups them by destination
/// (a pinned name, a name the policy resolves, a reverse-DNS name, else the address), names each entry after it, and
/// keeps DNS to a server that is not a named resolver out of the suggestions (a finding, never an allow). Counting is
/// pure and needs no privileges; only the optional reverse lookups touch the network.
/// </summary>
public sealed class DenialLearner
{
    /// <summary>The most <c>by:</c> items suggested for one entry; more senders than this get no <c>by:</c> (a comment says so).</summary>
    public const int MaxScopes = 4;

    private const ushort DnsPort = 53;
    private readonly Dictionary<(IPAddress Address, ProtocolType Protocol, ushort Port), Tally> _flows = [];

    /// <summary>Records seen by <see cref="Observe"/>.</summary>
    public long Observed { get; private set; }

    /// <summary>Records that cannot become an entry (input denials, ICMP, truncated before the port).</summary>
    public long Ignored { get; private set; }

    /// <summary>Counts one denial (or audit-mode record).</summary>
    public void Observe(DenialRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        Observed++;
        if (record.Chain is { } chain && chain != PolicyCompiler.EgressDeniedChain
            || record.Protocol is not (ProtocolType.Tcp or ProtocolType.Udp)
            || record.Destination is not { } destination || record.DestinationPort is not { } port)
        {
            Ignored++;
            return;
        }
        if (destination.IsIPv4MappedToIPv6)
            destination = destination.MapToIPv4();
        var key = (destination, record.Protocol, port);
        if (!_flows.TryGetValue(key, out var tally))
            _flows[key] = tally = new Tally(record.Time);
        tally.Add(record);
    }

    /// <summary>
    /// The suggestions for <paramref name="policy"/>: flows it allows now are skipped, DNS (port 53) to an address
    /// that is not one of its resolvers is a finding, everything else an entry per destination. Names come from the
    /// policy's <c>hosts:</c> pins, then its resolved names, then <paramref name="reverse"/> (when given).
    /// </summary>
    public async Task<LearnReport> SuggestAsync(ResolvedPolicy policy, IReverseResolver? reverse = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var compiled = PolicyCompiler.Compile(policy);
        var resolvers = policy.Policy.Resolvers.SelectMany(policy.NetworksOf).ToList();
        var findings = new List<LearnFinding>();
        var candidates = new List<(IPAddress Address, SuggestedPort Port)>();
        long allowed = 0;
        foreach (var ((address, protocol, port), tally) in _flows.OrderBy(f => f.Value.First).ThenBy(f => f.Key.Port))
        {
            var seen = tally.ToPort(protocol, port);
            var verdict = FlowExplainer.Explain(compiled, protocol, address, port);
            if (verdict.Allowed)
            {
                allowed += tally.Count;
                continue;
            }
            if (verdict.Entry is { Window: { } window } windowEntry)
            {
                // A permanent entry here would undo the window (the seed's "only while updating").
                findings.Add(new LearnFinding("window-closed",
                    $"{seen.Flow} to {address} is window entry '{windowEntry.Name}' ({windowEntry.Location}), denied while it was closed: not suggested "
                    + $"(a permanent entry would keep it open); open it (for at most {WindowDuration.Format(window)}) for the run that needs it",
                    address, seen, tally.Count, tally.First, tally.Last) { Entry = windowEntry.Name });
                continue;
            }
            if (port == DnsPort && !resolvers.Any(r => r.Contains(address)))
            {
                findings.Add(new LearnFinding("dns-to-non-resolver",
                    $"DNS ({seen.Flow}) to {address}, which is not one of the policy's resolvers: not suggested (DNS to any server is a tunnel to anywhere); "
                    + "point the sender at a named resolver, or add this server to egress.dns.resolvers if it is one",
                    address, seen, tally.Count, tally.First, tally.Last));
                continue;
            }
            candidates.Add((address, seen));
        }

        var names = new NameFinder(policy, reverse);
        var groups = new List<(string Key, string? Host, NameSource Source, List<(IPAddress Address, SuggestedPort Port)> Flows)>();
        foreach (var candidate in candidates)
        {
            var (host, source) = await names.NameOfAsync(candidate.Address, cancellationToken).ConfigureAwait(false);
            string key = host ?? candidate.Address.ToString();
            var group = groups.FirstOrDefault(g => g.Key == key);
            if (group.Flows is null)
                groups.Add((key, host, source, [candidate]));
            else
                group.Flows.Add(candidate);
        }

        var taken = new HashSet<string>(policy.Policy.Egress.Concat(policy.Policy.Input).Select(e => e.Name), StringComparer.Ordinal);
        var entries = new List<SuggestedEntry>();
        foreach (var (key, host, source, flows) in groups)
        {
            var addresses = flows.Select(f => f.Address).Distinct().ToList();
            var ports = flows.GroupBy(f => (f.Port.Protocol, f.Port.Port))
                .Select(g => new SuggestedPort(g.Key.Protocol, g.Key.Port, g.Sum(f => f.Port.Count), g.Min(f => f.Port.FirstSeen), g.Max(f => f.Port.LastSeen),
                    g.SelectMany(f => f.Port.Users).Distinct().ToList()) { Cgroups = g.SelectMany(f => f.Port.Cgroups).Distinct().Take(8).ToList() })
                .OrderBy(p => p.Protocol == ProtocolType.Tcp ? 0 : 1).ThenBy(p => p.Port).ToList();
            // A pin names every address of the host: the entry follows the pin. Otherwise the addresses that were denied.
            IReadOnlyList<string> to = source == NameSource.Pin ? [host!] : addresses.Select(a => a.ToString()).ToList();
            var senders = Senders.Combine(flows.Select(f => _flows[(f.Address, f.Port.Protocol, f.Port.Port)].Senders));
            entries.Add(new SuggestedEntry(EntryNames.Unique(host ?? Label(addresses[0]), taken, "learned"), to, addresses, host, source, ports)
            {
                By = senders.By, UnknownCgroup = senders.Unknown, TooManySenders = senders.TooMany,
            });
        }
        return new LearnReport(entries, findings, Observed, Ignored, allowed);
    }

    private static string Label(IPAddress address) => "learned-" + address.ToString().Replace(':', '-').Replace('.', '-');

    /// <summary>Counts of one (destination, protocol, port).</summary>
    private sealed class Tally(DateTimeOffset first)
    {
        private readonly List<string> _users = [];
        private readonly List<string> _cgroups = [];

        public Senders Senders { get; } = new();

        public long Count { get; private set; }

        public DateTimeOffset First { get; private set; } = first;

        public DateTimeOffset Last { get; private set; } = first;

        public void Add(DenialRecord record)
        {
            Count++;
            if (record.Time < First)
                First = record.Time;
            if (record.Time > Last)
                Last = record.Time;
            string? user = record.UserName is { } n ? $"{n} (uid {record.Uid})" : record.Uid is { } uid ? $"uid {uid}" : null;
            if (user is not null && _users.Count < 8 && !_users.Contains(user))
                _users.Add(user);
            string? cgroup = record.Unit ?? record.Cgroup ?? (record.CgroupLookedUp ? "cgroup unknown" : null);
            if (cgroup is not null && _cgroups.Count < 8 && !_cgroups.Contains(cgroup))
                _cgroups.Add(cgroup);
            Senders.Add(record);
        }

        public SuggestedPort ToPort(ProtocolType protocol, ushort port) => new(protocol, port, Count, First, Last, _users.ToList()) { Cgroups = _cgroups.ToList() };
    }

    /// <summary>Who sent the denials of a flow, as <c>by:</c> items: from known cgroups, and the users of the others.</summary>
    private sealed class Senders
    {
        private const int Remembered = 64;
        private readonly HashSet<ServiceScope> _known = [];
        private readonly HashSet<ServiceScope> _usersOfUnknown = [];

        public long Unknown { get; private set; }

        public void Add(DenialRecord record)
        {
            var user = record.UserName is { } name ? new ServiceScope(ServiceScopeKind.User, name)
                : record.Uid is { } uid ? new ServiceScope(ServiceScopeKind.Uid, uid.ToString(System.Globalization.CultureInfo.InvariantCulture)) : null;
            ServiceScope? scope = record switch
            {
                // A .service is what `unit:` names (a scope or slice is transient or too wide): its path otherwise.
                { Unit: { } unit } when unit.EndsWith(".service", StringComparison.Ordinal) => new ServiceScope(ServiceScopeKind.Unit, unit),
                { Cgroup: { } path } when path != "/" => new ServiceScope(ServiceScopeKind.Cgroup, path),
                { Cgroup: "/" } => user, // the root cgroup holds everything: only the user tells senders apart
                { CgroupLookedUp: true } => null, // the socket was gone (or its cgroup removed): unknown
                _ => user, // no lookup was made (e.g. the reader was told not to)
            };
            if (scope is null)
            {
                Unknown++;
                if (user is not null && _usersOfUnknown.Count < Remembered)
                    _usersOfUnknown.Add(user);
            }
            else if (_known.Count < Remembered)
                _known.Add(scope);
        }

        /// <summary>The <c>by:</c> of an entry made of these flows.</summary>
        public static (IReadOnlyList<ServiceScope> By, long Unknown, int TooMany) Combine(IEnumerable<Senders> flows)
        {
            var list = flows.ToList();
            var known = list.SelectMany(f => f._known).Distinct().ToList();
            var by = known.Count > 0 ? known : list.SelectMany(f => f._usersOfUnknown).Distinct().ToList();
            long unknown = list.Sum(f => f.Unknown);
            return by.Count > MaxScopes ? ([], unknown, by.Count) : (by.OrderBy(s => s.Kind).ThenBy(s => s.Value, StringComparer.Ordinal).ToList(), unknown, 0);
        }
    }
}
