using System.Reflection;
using System.Net.Sockets;
using System.Net;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;

namespace NetlinkFence.Policy;

/// <summary>
/// Compiles a resolved policy into the default-deny ruleset of DESIGN.md. A pure function: no I/O, no clock,
/// no randomness, so the same policy always yields the same transaction bytes.
/// </summary>
public static class PolicyCompiler
{
    /// <summary>
    /// The chain every egress packet no entry allows jumps to; it ends in <c>counter drop</c>, so its counters are the
    /// evidence that this policy (not a route, not another table) dropped a packet: its first rule counts the
    /// self-test's probes (<see cref="SelfTestMark"/>), the last one everything.
    /// </summary>
    public const string EgressDeniedChain = "egress_denied";

    /// <summary>
    /// The socket mark (<c>SO_MARK</c>, "NLFT") that self-test probes carry. The first rule of
    /// <see cref="EgressDeniedChain"/> counts the packets with this mark (<c>meta mark 0x4e4c4654 counter</c>, no
    /// verdict), so a rise of that counter during a probe is that probe's packets dropped by this policy, and no
    /// other traffic's.
    /// </summary>
    public const uint SelfTestMark = 0x4e4c4654;

    private const string SelfTestCounterComment = "self-test probes dropped";

    private const NftFamily Inet = NftFamily.Inet;
    private const uint Loopback = 1; // "lo" is interface 1 in every network namespace
    private const string BuiltIn = "built-in";

    // ICMPv6 neighbour discovery types (RFC 4861).
    private const byte RouterSolicit = 133, RouterAdvert = 134, NeighborSolicit = 135, NeighborAdvert = 136;

    private const string RoutingHeaderZeroWhy = "IPv6 type 0 routing header (source routing, deprecated by RFC 5095): dropped, established traffic included";

    // ICMPv6 multicast listener discovery types (RFC 2710, RFC 3810).
    private const byte ListenerQuery = 130, ListenerReport = 131, ListenerDone = 132, ListenerReportV2 = 143;

    /// <summary>
    /// Compiles <paramref name="resolved"/>. Throws <see cref="PolicyException"/> when more entries allow one and the
    /// same destination and port than an element can name (about ten: the kernel keeps 256 bytes of userdata).
    /// </summary>
    public static CompiledPolicy Compile(ResolvedPolicy resolved)
    {
        ArgumentNullException.ThrowIfNull(resolved);
        try
        {
            return Assemble(resolved);
        }
        catch (Layout.ElementUserDataOverflowException e)
        {
            throw new PolicyException([SharedDestinationError(resolved.Policy, e)]);
        }
    }

    private static PolicyDiagnostic SharedDestinationError(EgressPolicy policy, Layout.ElementUserDataOverflowException e)
    {
        var entries = policy.Egress.Concat(policy.Input).Where(a => e.Entries.Contains(a.Name)).ToList();
        return new PolicyDiagnostic(Severity.Error, entries.Count > 0 ? entries[0].Location : SourceLocation.Code,
            $"{e.Entries.Count} entries allow one and the same destination ({e.Element}): "
            + string.Join(", ", entries.Select(a => $"{a.Name} (line {a.Location.Line})"))
            + $"; one set element names at most about ten entries (the kernel keeps {Nftables.RuleUserData.MaxBytes} bytes of userdata, these take {e.Bytes})",
            "merge the entries that share this destination and port into one (several names or networks in one to: list), or shorten their names",
            "shared-destination-overflow");
    }

    private static CompiledPolicy Assemble(ResolvedPolicy resolved)
    {
        var policy = resolved.Policy;
        string name = policy.Table;
        var chains = new List<Chain>
        {
            new(Inet, name, "input", new ChainHook("filter", HookPoint.Input, 0, ChainPolicy.Drop)),
            new(Inet, name, "forward", new ChainHook("filter", HookPoint.Forward, 0, ChainPolicy.Drop)),
            new(Inet, name, "output", new ChainHook("filter", HookPoint.Output, 0, ChainPolicy.Drop)),
            new(Inet, name, "ingress_denied"),
            new(Inet, name, EgressDeniedChain),
        };
        var sets = new List<CompiledSet>();
        var input = new List<CompiledRule>();
        var output = new List<CompiledRule>();
        RuleBuilder In() => new(Inet, name, "input");
        RuleBuilder Out() => new(Inet, name, "output");

        input.Add(new(In().InputInterface(Loopback).Accept(), BuiltIn, "loopback traffic stays on the host"));
        input.Add(new(In().CtState(CtState.Established).Accept(), BuiltIn, "replies to connections the host opened"));
        input.Add(new(In().CtState(CtState.Related).L4Protocol(ProtocolType.Icmp).Accept(), BuiltIn, "ICMP errors about existing connections (path MTU); RELATED is never a back channel for anything else"));
        input.Add(new(In().CtState(CtState.Related).L4Protocol(ProtocolType.IcmpV6).Accept(), BuiltIn, "ICMPv6 errors about existing connections"));
        input.Add(new(In().CtState(CtState.Invalid).Drop(), BuiltIn, "packets conntrack cannot place"));

        output.Add(new(Out().OutputInterface(Loopback).Accept(), BuiltIn, "loopback traffic stays on the host"));
        output.Add(new(Out().CtState(CtState.Established | CtState.Related).Accept(), BuiltIn, "traffic of connections already allowed"));
        output.Add(new(Out().CtState(CtState.Invalid).Drop(), BuiltIn, "packets conntrack cannot place"));

        // DNS: udp and tcp 53, to the named resolvers only.
        foreach (var family in Families)
        {
            var networks = policy.Resolvers.SelectMany(d => resolved.NetworksOf(d).Select(n => (d, n))).Where(x => Family(x.n) == family).ToList();
            if (networks.Count == 0)
                continue;
            string setName = $"dns_{Suffix(family)}";
            var set = ConcatSet(name, setName, family);
            var elements = Elements(set, networks.Select(x => x.n), [new PortRange(53, 53)]);
            string origin = networks[0].d.Location.ToString();
            sets.Add(new CompiledSet(set, elements, origin, Explain(resolved, networks.Select(x => x.d))));
            output.Add(new(Out().DestinationAndPortIn(family, ProtocolType.Udp, setName).Accept("dns"), origin, "DNS over UDP to the named resolvers only"));
            output.Add(new(Out().DestinationAndPortIn(family, ProtocolType.Tcp, setName).Accept("dns"), origin, "DNS over TCP to the named resolvers only"));
        }

        // Allow entries: one set per direction and family, one rule per set (the number of rules and sets does not
        // grow with the policy); overlapping entries are made disjoint elements by the layout planner.
        var egressGrants = Grants(resolved, policy.Egress, anySource: false);
        var inputGrants = Grants(resolved, policy.Input, anySource: true);
        foreach (var family in Families)
        {
            output.Add(AllowSet(resolved, policy.Egress, egressGrants, name, family, destination: true, sets));
            input.Add(AllowSet(resolved, policy.Input, inputGrants, name, family, destination: false, sets));
            output.AddRange(ScopedAllowSets(resolved, egressGrants, name, family, sets));
        }

        // IPv6 peers named in the policy (an input entry without from: allows ::/0 but names none).
        bool hasIPv6 = sets.Any(s => s.Set.Name == "dns_v6") || NamesIPv6Peer(resolved, policy.Egress) || NamesIPv6Peer(resolved, policy.Input);
        if (hasIPv6)
        {
            // Neighbour discovery only when the policy talks IPv6 at all: without it, v6 stays fully closed.
            // Type 0 routing headers before anything else but loopback, as ufw drops them (RFC 5095 deprecated them).
            input.Insert(1, new(In().RoutingHeaderType(0).Drop(), BuiltIn, RoutingHeaderZeroWhy));
            output.Insert(1, new(Out().RoutingHeaderType(0).Drop(), BuiltIn, RoutingHeaderZeroWhy));
            output.AddRange(NeighbourDiscoveryOut(Out));
            output.AddRange(ListenerDiscoveryOut(Out));
            input.AddRange(NeighbourDiscoveryIn(In));
            input.AddRange(ListenerDiscoveryIn(In));
        }

        input.Add(new(In().Jump("ingress_denied"), BuiltIn, "everything else is logged and dropped"));
        output.Add(new(Out().Jump(EgressDeniedChain), BuiltIn, $"everything else is logged and {Denied(policy.EgressDeny)}"));

        // The policy alone is not enough: during a re-apply the kernel unhooks the old table's chains before it
        // gives the new ones their drop policy (nft_chain_commit_drop_policy), so a chain without rules would
        // forward packets for that moment (NoLeakWindowTests measured ~180 in 500 re-applies). Input and
        // output end in a jump to their denied chains for the same reason.
        var forward = new CompiledRule(new RuleBuilder(Inet, name, "forward").Counter().Drop(), BuiltIn,
            "this host forwards nothing; an explicit drop, so no moment of a re-apply depends on the chain policy");

        var rules = new List<CompiledRule>();
        rules.AddRange(input);
        rules.Add(forward);
        rules.AddRange(output);
        rules.AddRange(DenyChain(name, "ingress_denied", policy.Log, policy.Log.InputPrefix, DenyAction.Drop));
        rules.AddRange(AuditRules(name, policy.Log, sets)); // first in egress_denied: before its self-test counter and drop
        rules.AddRange(DenyChain(name, EgressDeniedChain, policy.Log, policy.Log.Prefix, policy.EgressDeny));
        return new CompiledPolicy(resolved, new Table(Inet, name) { Comment = TableComment }, chains, sets, rules, egressGrants, inputGrants, hasIPv6);
    }

    /// <summary>
    /// The comment of every compiled table (<see cref="Table.Comment"/>): the build that compiled it,
    /// <c>netlinkfence 0.5.0+c0f7a897e41f</c> (the version and 12 hex digits of the commit; the version alone when built
    /// without git). Comparing it with a live table's comment tells a table another build applied, whose differences
    /// may be the compilers' rather than changes; and <c>nft list ruleset</c> shows what manages the table.
    /// </summary>
    public static string TableComment { get; } = "netlinkfence " + BuildVersion();

    private static string BuildVersion()
    {
        string version = typeof(PolicyCompiler).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        int plus = version.IndexOf('+');
        return plus >= 0 && version.Length > plus + 13 ? version[..(plus + 13)] : version;
    }

    /// <summary>
    /// Neighbour discovery as RFC 4861 sends it: hop limit 255 (so a receiver knows it came from the link), to
    /// link-scope destinations, which no router forwards: router solicitation to all-routers (ff02::2), neighbour
    /// solicitation to a solicited-node group (ff02::1:ff00:0/104) or a link-local address, advertisement to
    /// all-nodes (ff02::1) or a link-local address. The kernel also sends NS (unreachability probes) and NA (replies
    /// to a neighbour that asked from its global address) to a neighbour's global address; those are accepted only
    /// when the kernel itself sends them: an ND packet from a process's socket (a raw socket needs only CAP_NET_RAW,
    /// which Docker grants by default) to any other address is denied, as it could carry any payload to any host
    /// beyond the next router.
    /// </summary>
    private static IEnumerable<CompiledRule> NeighbourDiscoveryOut(Func<RuleBuilder> rule)
    {
        var linkScope = new (byte Type, string Label, string Address, int Prefix)[]
        {
            (RouterSolicit, "router solicitation to all routers", "ff02::2", 128),
            (NeighborSolicit, "neighbour solicitation to a solicited-node group", "ff02::1:ff00:0", 104),
            (NeighborSolicit, "neighbour solicitation to a link-local address", "fe80::", 10),
            (NeighborAdvert, "neighbour advertisement to all nodes", "ff02::1", 128),
            (NeighborAdvert, "neighbour advertisement to a link-local address", "fe80::", 10),
        };
        foreach (var (type, label, address, prefix) in linkScope)
            yield return new(rule().Destination(IPAddress.Parse(address), prefix).HopLimit(255).IcmpV6Type(type).Accept(), BuiltIn,
                $"IPv6 {label}, hop limit 255: stays on the link (the policy has IPv6 destinations)");
        // A router solicitation to any other address matches nothing here and ends in egress_denied.
        foreach (var (type, label) in new[] { (NeighborSolicit, "neighbour solicitation"), (NeighborAdvert, "neighbour advertisement") })
            yield return new(rule().IcmpV6Type(type).FromProcessSocket().Jump(EgressDeniedChain), BuiltIn,
                $"IPv6 {label} from a process's socket to any other address: could carry a payload past the router");
        foreach (var (type, label) in new[] { (NeighborSolicit, "neighbour solicitation"), (NeighborAdvert, "neighbour advertisement") })
            yield return new(rule().HopLimit(255).IcmpV6Type(type).Accept(), BuiltIn,
                $"IPv6 {label} the kernel sends to a neighbour's own address, hop limit 255 (unreachability probes, replies)");
    }

    /// <summary>Inbound neighbour discovery only with hop limit 255: it was sent on this link (RFC 4861 7.1).</summary>
    private static IEnumerable<CompiledRule> NeighbourDiscoveryIn(Func<RuleBuilder> rule)
    {
        foreach (var (type, label) in new[] { (NeighborSolicit, "neighbour solicitation"), (NeighborAdvert, "neighbour advertisement"), (RouterAdvert, "router advertisement") })
            yield return new(rule().HopLimit(255).IcmpV6Type(type).Accept(), BuiltIn, $"IPv6 {label} from the link (hop limit 255; the policy has IPv6 destinations)");
    }

    /// <summary>
    /// Multicast listener discovery as the kernel sends it: a report of each group the host joins (its solicited-node
    /// groups first, through which its neighbours' solicitations reach it) and a done when it leaves, hop limit 1 to a
    /// multicast address, so no router forwards it. Without them a switch that snoops MLD stops passing the host its
    /// neighbours' solicitations, and every address the host takes is logged as a denial (RFC 4890 4.4.1: not to be
    /// dropped). Anyone on the link may send them, as with the link-scope neighbour discovery above.
    /// </summary>
    private static IEnumerable<CompiledRule> ListenerDiscoveryOut(Func<RuleBuilder> rule)
    {
        foreach (var (type, label) in new[] { (ListenerReportV2, "MLDv2 listener report"), (ListenerReport, "MLDv1 listener report"), (ListenerDone, "MLDv1 listener done") })
            yield return new(rule().Destination(IPAddress.Parse("ff00::"), 8).HopLimit(1).IcmpV6Type(type).Accept(), BuiltIn,
                $"IPv6 {label} (the groups this host joins and leaves) to a multicast address, hop limit 1: stays on the link (the policy has IPv6 destinations)");
    }

    /// <summary>
    /// Inbound multicast listener discovery a host answers or heeds: a router's query (the host answers with its
    /// reports, or a snooping switch forgets its groups) and another host's MLDv1 report (which stands for this host's
    /// own), from a link-local address with hop limit 1, as RFC 2710 and RFC 3810 send them.
    /// </summary>
    private static IEnumerable<CompiledRule> ListenerDiscoveryIn(Func<RuleBuilder> rule)
    {
        foreach (var (type, label) in new[] { (ListenerQuery, "multicast listener query (a router asks which groups the host has joined)"), (ListenerReport, "MLDv1 listener report of a neighbour (it stands for this host's own)") })
            yield return new(rule().Source(IPAddress.Parse("fe80::"), 10).HopLimit(1).IcmpV6Type(type).Accept(), BuiltIn,
                $"IPv6 {label} from the link (link-local source, hop limit 1; the policy has IPv6 destinations)");
    }

    private static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];

    /// <summary>The name of the egress allow set of <paramref name="family"/>: <c>allow_v4</c>, <c>allow_v6</c>.</summary>
    public static string EgressAllowSet(AddressFamily family) => $"allow_{Suffix(family)}";

    /// <summary>The name of the input allow set of <paramref name="family"/>: <c>input_v4</c>, <c>input_v6</c>.</summary>
    public static string InputAllowSet(AddressFamily family) => $"input_{Suffix(family)}";

    /// <summary>
    /// An allow set: key <c>addr . inet_proto . inet_service</c>, intervals (networks, port ranges), timeouts (windows
    /// and live additions expire in the kernel), and a counter on every element (per-entry traffic without a rule
    /// per entry). Created even when empty, so live changes only ever add elements.
    /// </summary>
    internal static NftSet AllowSetOf(string table, string name, AddressFamily family) =>
        new(Inet, table, name, [family == AddressFamily.InterNetwork ? SetKeyType.Ipv4Address : SetKeyType.Ipv6Address, SetKeyType.InetProto, SetKeyType.InetService],
            SetFlags.Interval | SetFlags.Timeout) { ElementCounters = true };

    /// <summary>
    /// What the allow entries let through, in policy order: per entry, per peer network, tcp ranges then udp ranges.
    /// An input entry without <c>from:</c> allows any source (0.0.0.0/0 and ::/0).
    /// </summary>
    private static List<AllowGrant> Grants(ResolvedPolicy resolved, IReadOnlyList<AllowEntry> entries, bool anySource)
    {
        var grants = new List<AllowGrant>();
        // One entry's distinct networks in order, collected into lists reused across entries (a policy of 10,000
        // entries would otherwise make a LINQ pipeline and a hash set per entry).
        var networks = new List<IPNetwork>();
        var seen = new HashSet<IPNetwork>();
        GrantScope?[] unscoped = [null];
        for (int e = 0; e < entries.Count; e++)
        {
            var entry = entries[e];
            if (!GrantsAtCompileTime(entry))
                continue;
            networks.Clear();
            seen.Clear();
            if (entry.Peers.Count == 0 && anySource)
            {
                networks.Add(new IPNetwork(IPAddress.Any, 0));
                networks.Add(new IPNetwork(IPAddress.IPv6Any, 0));
            }
            for (int p = 0; p < entry.Peers.Count; p++)
                resolved.AddNetworksOf(entry.Peers[p], networks, seen);
            // by: makes the entry's grants one per bound item (cgroup or user); an item bound to nothing (a unit that
            // is not running, when_absent: deny) grants nothing. Without by: one unscoped grant.
            GrantScope?[] scopes = entry.By.Count == 0 ? unscoped
                : resolved.ScopesOf(entry).Where(b => b.Current is not null).Select(b => b.Current).Distinct().ToArray();
            foreach (var network in networks)
            {
                foreach (var scope in scopes)
                {
                    foreach (var range in entry.Tcp)
                        grants.Add(new AllowGrant(entry.Name, network, ProtocolType.Tcp, range, Scope: scope));
                    foreach (var range in entry.Udp)
                        grants.Add(new AllowGrant(entry.Name, network, ProtocolType.Udp, range, Scope: scope));
                }
            }
        }
        return grants;
    }

    /// <summary>
    /// Whether an entry names an IPv6 peer (an input entry without <c>from:</c> names none). Window entries count while
    /// closed: opening one only adds set elements, so the link housekeeping its peers need must already be in place.
    /// </summary>
    private static bool NamesIPv6Peer(ResolvedPolicy resolved, IReadOnlyList<AllowEntry> entries)
    {
        for (int e = 0; e < entries.Count; e++)
        {
            var peers = entries[e].Peers;
            for (int p = 0; p < peers.Count; p++)
            {
                if (peers[p].Network is { } network ? Family(network) == AddressFamily.InterNetworkV6
                    : HasIPv6(resolved.Names[peers[p].HostName!].Addresses))
                    return true;
            }
        }
        return false;

        static bool HasIPv6(IReadOnlyList<IPAddress> addresses)
        {
            for (int i = 0; i < addresses.Count; i++)
                if (addresses[i].AddressFamily == AddressFamily.InterNetworkV6)
                    return true;
            return false;
        }
    }

    /// <summary>
    /// Whether an entry is allowed from the start: an entry with a <c>window:</c> is closed after apply and grants
    /// nothing until a window is opened at run time (<see cref="LivePolicy.OpenWindowAsync"/>).
    /// </summary>
    private static bool GrantsAtCompileTime(AllowEntry entry) => entry.Window is null;

    private static CompiledRule AllowSet(ResolvedPolicy resolved, IReadOnlyList<AllowEntry> entries, List<AllowGrant> grants, string table,
        AddressFamily family, bool destination, List<CompiledSet> sets)
    {
        string setName = destination ? EgressAllowSet(family) : InputAllowSet(family);
        string origin = destination ? "egress.allow" : "input.allow";
        var set = AllowSetOf(table, setName, family);
        var ofFamily = grants.Where(g => Family(g.Network) == family && g.Scope is null).ToList();
        // Compile-time grants never expire, so the elements do not depend on the clock.
        var elements = new Layout.AllowSetModel(set, ofFamily).Elements(DateTimeOffset.UnixEpoch);
        var granted = ofFamily.Select(g => g.Entry).ToHashSet(StringComparer.Ordinal);
        var explanation = new LazyList<string>(() => entries.Where(e => granted.Contains(e.Name)).Select(e => EntryLine(resolved, e, family, destination)).ToList());
        sets.Add(new CompiledSet(set, elements, origin, explanation));
        var builder = new RuleBuilder(Inet, table, destination ? "output" : "input");
        builder = destination ? builder.DestinationProtocolAndPortIn(family, setName) : builder.SourceProtocolAndDestinationPortIn(family, setName);
        string comment = destination ? "allow" : "input";
        return new(builder.Counter().Accept(comment), origin,
            $"{(destination ? "egress" : "input")} allow entries ({Suffix(family)}); each element counts its own traffic, its comment names the entry");
    }

    /// <summary>The name of the egress allow set of <paramref name="family"/> for grants scoped to cgroups (<c>allow_cgroup_v4</c>) or users (<c>allow_user_v4</c>).</summary>
    public static string ScopedAllowSet(AddressFamily family, bool cgroup) => $"allow_{(cgroup ? "cgroup" : "user")}_{Suffix(family)}";

    /// <summary>
    /// A scoped allow set: an allow set's key and flags (<see cref="AllowSetOf"/>) with the scope as a fourth field,
    /// <c>cgroupsv2</c> (the id of the cgroup the entry names) or <c>uid</c>.
    /// </summary>
    internal static NftSet ScopedAllowSetOf(string table, AddressFamily family, bool cgroup) =>
        new(Inet, table, ScopedAllowSet(family, cgroup),
            [family == AddressFamily.InterNetwork ? SetKeyType.Ipv4Address : SetKeyType.Ipv6Address, SetKeyType.InetProto, SetKeyType.InetService,
             cgroup ? SetKeyType.CgroupV2 : SetKeyType.Uid],
            SetFlags.Interval | SetFlags.Timeout) { ElementCounters = true };

    /// <summary>
    /// The scoped allow sets of one family, when some egress entry has <c>by:</c> of their kind (even when what it names
    /// is absent now: the daemon binds it later without a structure change). Cgroups: one rule per distinct depth of the
    /// named cgroups (<c>socket cgroupv2 level N</c> loads the socket's ancestor at that depth, so a service's child
    /// cgroups match too); users: one rule. The number of rules and sets does not grow with the entries.
    /// </summary>
    private static IEnumerable<CompiledRule> ScopedAllowSets(ResolvedPolicy resolved, List<AllowGrant> grants, string table, AddressFamily family, List<CompiledSet> sets)
    {
        var bindings = resolved.Policy.Egress.Where(e => e.By.Count > 0).SelectMany(resolved.ScopesOf).ToList();
        foreach (bool cgroup in new[] { true, false })
        {
            var ofKind = bindings.Where(b => b.Scope.IsCgroup == cgroup).ToList();
            if (ofKind.Count == 0)
                continue;
            var set = ScopedAllowSetOf(table, family, cgroup);
            var elements = grants.Where(g => g.Scope is { } s && s.IsCgroup == cgroup && Family(g.Network) == family)
                .GroupBy(g => g.Scope!.Value).OrderBy(g => g.Key.Id)
                .SelectMany(g => new Layout.AllowSetModel(set, g, g.Key).Elements(DateTimeOffset.UnixEpoch)).ToList();
            var explanation = new LazyList<string>(() => resolved.Policy.Egress
                .Where(e => e.By.Any(b => b.IsCgroup == cgroup) && e.Peers.SelectMany(resolved.NetworksOf).Any(n => Family(n) == family))
                .Select(e => EntryLine(resolved, e, family, destination: true) + " by " + string.Join(", ", resolved.ScopesOf(e).Select(Describe))).ToList());
            sets.Add(new CompiledSet(set, elements, "egress.allow", explanation));
            if (cgroup)
            {
                foreach (uint level in ofKind.Select(b => b.Level).Distinct().Order())
                    yield return new(new RuleBuilder(Inet, table, "output").DestinationProtocolPortAndCgroupIn(family, set.Name, level).Counter().Accept("allow"),
                        "egress.allow", $"egress allow entries with by: a unit or cgroup at depth {level} ({Suffix(family)}); the element's last field is the cgroup's id");
            }
            else
            {
                yield return new(new RuleBuilder(Inet, table, "output").DestinationProtocolPortAndUserIn(family, set.Name).Counter().Accept("allow"),
                    "egress.allow", $"egress allow entries with by: a user ({Suffix(family)}); the element's last field is the socket owner's uid");
            }
        }
    }

    /// <summary><c>unit chrony.service = /system.slice/chrony.service (cgroup 1234)</c>, <c>user _chrony (uid 118)</c>.</summary>
    internal static string Describe(ScopeBinding binding) =>
        binding.Scope.Kind switch
        {
            ServiceScopeKind.Unit => $"unit {binding.Scope.Value} = {binding.CgroupPath}",
            ServiceScopeKind.Cgroup => $"cgroup {binding.CgroupPath}",
            ServiceScopeKind.User => $"user {binding.Scope.Value}",
            _ => $"uid {binding.Scope.Value}",
        } + (binding.Scope.Kind == ServiceScopeKind.Uid ? "" : binding.Current is { } current ? $" ({current})" : " (absent now: allows nothing until it exists)");

    /// <summary>One line per entry for plan: <c>'web' at policy.yaml:23:7: tcp 443; udp 53 to api.example -> 203.0.113.50 (DNS)</c>.</summary>
    private static string EntryLine(ResolvedPolicy resolved, AllowEntry entry, AddressFamily family, bool destination)
    {
        var ports = new List<string>();
        if (entry.Tcp.Count > 0)
            ports.Add($"tcp {string.Join(", ", entry.Tcp)}");
        if (entry.Udp.Count > 0)
            ports.Add($"udp {string.Join(", ", entry.Udp)}");
        var peers = entry.Peers.Where(d => resolved.NetworksOf(d).Any(n => Family(n) == family)).ToList();
        string who = peers.Count == 0 ? "any source" : string.Join(", ", Explain(resolved, peers));
        return $"'{entry.Name}' at {entry.Location}: {string.Join("; ", ports)} {(destination ? "to" : "from")} {who}";
    }

    /// <summary>What the deny chain does with a packet, in words: "dropped" or "rejected" (<c>egress.deny</c>).</summary>
    internal static string Denied(DenyAction action) => action == DenyAction.Reject ? "rejected" : "dropped";

    /// <summary>
    /// ICMPx administratively prohibited (ICMP type 3 code 13, ICMPv6 type 1 code 1): the sender learns it was a
    /// policy, and a peer's own refusal (an RST, port unreachable: ECONNREFUSED) stays distinguishable from it.
    /// </summary>
    private static readonly RejectExpression AdminProhibited = new(RejectType.IcmpxUnreachable, (byte)NetlinkFence.Interop.Uapi.NftRejectIcmpxCode.ADMIN_PROHIBITED);

    private static IEnumerable<CompiledRule> DenyChain(string table, string chain, LogSettings log, string? prefix, DenyAction action)
    {
        if (chain == EgressDeniedChain)
            yield return new(new RuleBuilder(Inet, table, chain).Mark(SelfTestMark).Counter().Build(SelfTestCounterComment), BuiltIn,
                "count the self-test's probes apart from other dropped traffic (they carry this socket mark); no verdict");
        // One limit guards both log statements: a packet over the rate is logged nowhere (and still dropped below).
        // The counter after the limit counts the packets logged, so stats can say how many denials the rate kept out
        // of the log (the final rule counts them all). The kernel log line needs a prefix; the NFLOG copy is always
        // sent, so `watch` works in any namespace.
        var builder = new RuleBuilder(Inet, table, chain);
        if (log.RatePerSecond is { } rate)
            builder.Limit(rate, log.RateUnitSeconds).Counter();
        if (prefix is not null)
            builder.Log(prefix);
        yield return new(builder.Log(prefix, log.NflogGroup).Build(), "log",
            $"log what is denied{(prefix is null ? "" : " to the kernel log and")} to NFLOG group {log.NflogGroup} "
            + (log.RatePerSecond is null ? "" : "and count what is logged ")
            + $"(the rate limit bounds log records only; every packet is still {Denied(action)})");
        if (action == DenyAction.Reject)
            yield return new(new RuleBuilder(Inet, table, chain).Counter().Add(AdminProhibited).Build(), "egress.deny",
                "count and reject: the sender gets ICMP administratively prohibited and fails at once instead of waiting for its timeout");
        else
            yield return new(new RuleBuilder(Inet, table, chain).Counter().Drop(), BuiltIn, "count and drop");
    }

    // ---- Audit mode (learn --audit) ---------------------------------------------------------------------------------

    /// <summary>The log prefix of packets accepted in audit mode; NFLOG records with it say <c>accept</c>.</summary>
    public const string AuditLogPrefix = "EGRESS-AUDIT: ";

    /// <summary>
    /// The audit switch: a timeout set keyed by <c>meta nfproto</c>. Empty (as every apply leaves it), the audit rules
    /// match nothing; <see cref="AuditMode"/> adds the element for ipv4/ipv6 with a timeout, and when the timeout runs
    /// out the kernel stops matching it (nft_set_elem_expired on lookup) whether or not anyone is alive to remove it.
    /// </summary>
    internal static NftSet AuditSet(string table) =>
        new(Inet, table, AuditMode.SetName, [SetKeyType.NfProto], SetFlags.Timeout)
        {
            Comment = "learn --audit: while an element lives (kernel timeout), egress_denied logs and accepts",
        };

    /// <summary>
    /// Two rules at the top of egress_denied, both conditional on the audit set: log (rate-limited like the denial log,
    /// to the NFLOG group with <see cref="AuditLogPrefix"/>), then accept. Two rules so that the log's rate limit never
    /// turns into a drop of an audited packet.
    /// </summary>
    private static IEnumerable<CompiledRule> AuditRules(string table, LogSettings log, List<CompiledSet> sets)
    {
        var set = AuditSet(table);
        sets.Add(new CompiledSet(set, [], BuiltIn, ["audit mode switch: empty unless 'learn --audit' runs (its element expires in the kernel)"]));
        RuleBuilder Audited() => new RuleBuilder(Inet, table, EgressDeniedChain).Add(new MetaExpression(MetaKey.NfProto)).Add(new LookupExpression(set.Name));
        var logged = Audited();
        if (log.RatePerSecond is { } rate)
            logged.Limit(rate, log.RateUnitSeconds).Counter(); // what is logged, against the accept's count: learn says what the rate hid
        yield return new(logged.Log(AuditLogPrefix, log.NflogGroup).Build(), BuiltIn,
            "audit mode only (the audit set holds an unexpired element): log what would be denied" + (log.RatePerSecond is null ? "" : ", and count what is logged"));
        yield return new(Audited().Counter().Accept("audit"), BuiltIn,
            "audit mode only: accept what would be denied; the element's kernel timeout ends it even if the learner dies");
    }

    private static NftSet ConcatSet(string table, string name, AddressFamily family) =>
        new(Inet, table, name, [family == AddressFamily.InterNetwork ? SetKeyType.Ipv4Address : SetKeyType.Ipv6Address, SetKeyType.InetService], SetFlags.Interval);

    /// <summary>
    /// Every (network, port range) pair as one concatenated range element, shaped as the transaction sends it.
    /// Interval sets refuse overlapping elements, so networks inside other networks are dropped and port ranges
    /// merged first; the order is sorted, so the same policy always yields the same bytes.
    /// </summary>
    private static IReadOnlyList<SetElement> Elements(NftSet set, IEnumerable<IPNetwork> networks, IReadOnlyList<PortRange> ports)
    {
        var elements = new List<SetElement>();
        var merged = MergePorts(ports);
        foreach (var network in Outermost(networks))
        {
            var addresses = SetKeyField.Network(network);
            foreach (var range in merged)
                elements.Add(SetElement.Of(addresses, SetKeyField.Ports(range.First, range.Last)));
        }
        return SetElementKeys.Shape(set, elements, add: true);
    }

    /// <summary>Sorted networks with every network that lies inside another one removed.</summary>
    private static List<IPNetwork> Outermost(IEnumerable<IPNetwork> networks)
    {
        // By address, then shortest prefix first: a network that contains others comes right before them, and
        // CIDRs either nest or are disjoint, so only the last kept network (of the same family) can contain the
        // next one. One pass (n log n), not a scan of everything kept (n^2: minutes at 100,000 destinations).
        var sorted = networks.Distinct().OrderBy(n => Convert.ToHexString(n.BaseAddress.GetAddressBytes()), StringComparer.Ordinal).ThenBy(n => n.PrefixLength).ToList();
        var kept = new List<IPNetwork>();
        IPNetwork? lastV4 = null, lastV6 = null;
        foreach (var network in sorted)
        {
            bool v4 = network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
            if ((v4 ? lastV4 : lastV6) is { } last && last.Contains(network.BaseAddress))
                continue;
            kept.Add(network);
            if (v4)
                lastV4 = network;
            else
                lastV6 = network;
        }
        return kept.OrderBy(n => Convert.ToHexString(n.BaseAddress.GetAddressBytes()), StringComparer.Ordinal).ToList();
    }

    /// <summary>Sorted, disjoint port ranges (touching and overlapping ranges joined).</summary>
    private static List<PortRange> MergePorts(IEnumerable<PortRange> ports)
    {
        var merged = new List<PortRange>();
        foreach (var range in ports.OrderBy(p => p.First).ThenBy(p => p.Last))
        {
            if (merged.Count > 0 && range.First <= merged[^1].Last + 1)
                merged[^1] = new PortRange(merged[^1].First, Math.Max(merged[^1].Last, range.Last));
            else
                merged.Add(range);
        }
        return merged;
    }

    private static List<string> Explain(ResolvedPolicy resolved, IEnumerable<Destination> destinations) =>
        destinations.Select(d => d.HostName is { } host && resolved.Names.TryGetValue(host, out var r)
            ? $"{host} -> {string.Join(", ", r.Addresses)} ({(r.Source == ResolutionSource.Pin ? "hosts: pin" : "DNS")})"
            : d.Text).Distinct().ToList(); // text: the networks of one range read as the range, once

    private static AddressFamily Family(IPNetwork network) => network.BaseAddress.AddressFamily;

    private static string Suffix(AddressFamily family) => family == AddressFamily.InterNetwork ? "v4" : "v6";
}
