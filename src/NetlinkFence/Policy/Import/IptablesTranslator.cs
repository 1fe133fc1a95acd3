using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Policy.Import;

/// <summary>
/// Turns a parsed ruleset into allow entries, checking that first-match order means the same as an allow-list:
/// the compiled policy accepts loopback, then established (and related) traffic, drops INVALID, accepts its allow
/// entries, and drops (and logs) the rest. A ruleset means the same when every ACCEPT is reached by all the packets
/// it names (no earlier DROP or REJECT takes part of them), loopback and established traffic are accepted as a whole,
/// and the chain policies are DROP. Anything else is listed, with its line and why, as unsupported.
/// </summary>
internal sealed partial class IptablesTranslator(ImportPlan plan, PolicyRules errors)
{
    private ImportPlan Plan => plan;

    private const string Fix = "rewrite or remove the rule (or import with --partial: it is then left out, as a comment)";

    public void Translate(IptablesRuleset ruleset)
    {
        foreach (var table in ruleset.Tables)
        {
            if (table.Name == "filter")
                Filter(ruleset, table);
            else
                OtherTable(table);
        }
        if (ruleset.IPv6 && ruleset.Tables.FirstOrDefault(t => t.Name == "filter") is { } filter)
            NeighbourDiscoveryCoverage(filter);
        if (!ruleset.Tables.Any(t => t.Name == "filter"))
            Unsupported(ruleset.Tables.Count > 0 ? ruleset.Tables[0].Header.At() : new SourceLocation(ruleset.File, 1, 1),
                $"no *filter table: {(ruleset.IPv6 ? "IPv6" : "IPv4")} traffic is not filtered at all by this ruleset (every chain's policy is ACCEPT)",
                "import a ruleset with a *filter table whose INPUT, FORWARD and OUTPUT policies are DROP");
    }

    /// <summary>
    /// After every ruleset: a policy has one action for both families (<see cref="ImportPlan.EgressDeny"/>), so an IPv4
    /// file that rejects with an IPv6 file that drops becomes a drop, and a warning says so.
    /// </summary>
    public void Finish()
    {
        if (plan.EgressDeny == DenyAction.Reject || plan.EgressEnds.FirstOrDefault(end => end is not null) is not { } rejecting)
            return;
        Note(Severity.Warning, rejecting.At(), "this OUTPUT ends in REJECT but the other file's OUTPUT drops: a policy has one action for both families, and the import keeps the drop",
            "add 'deny: reject' under 'egress:' if programs rely on the fast refusal (both families then reject)", "reject-as-drop");
    }

    private void OtherTable(IptablesTable table)
    {
        bool any = false;
        foreach (var chain in table.ChainOrder)
        {
            if (chain.Policy == "DROP")
            {
                any = true;
                Unsupported(chain.Declaration.At(), $"table {table.Name}: chain {chain.Name} drops by policy; only the filter table is imported", Fix);
                plan.Fates.Add((chain.Declaration, LineFate.NotImported, $"{table.Name} table"));
            }
            else
            {
                plan.Fates.Add((chain.Declaration, LineFate.NoEffect, $"{table.Name} table chain without effect on what is allowed"));
            }
            foreach (var rule in chain.Rules)
            {
                any = true;
                Unsupported(rule.Line.At(), $"a rule of the {table.Name} table: only the filter table is imported (a {table.Name} rule can change addresses, marks or verdicts the filter rules see)", Fix);
                plan.Fates.Add((rule.Line, LineFate.NotImported, $"{table.Name} table"));
            }
        }
        if (!any)
            plan.Fates.Add((table.Header, LineFate.NoEffect, $"{table.Name} table with no rules"));
    }

    private void Filter(IptablesRuleset ruleset, IptablesTable table)
    {
        var flattener = new ChainFlattener(table, ruleset.IPv6, errors);
        foreach (var (name, direction) in new[] { ("OUTPUT", Direction.Output), ("INPUT", Direction.Input), ("FORWARD", Direction.Forward) })
        {
            var chain = table.Chains.GetValueOrDefault(name) ?? new IptablesChain(name, "ACCEPT", table.Header) { Declared = false };
            new ChainAnalysis(this, ruleset, chain, direction, flattener.Flatten(chain, direction)).Run();
        }
        // Nothing goes silently: a line no packet reaches (a jump to an empty chain, say) is still accounted for.
        var accounted = plan.Fates.Select(f => f.Line).ToHashSet();
        foreach (var rule in table.ChainOrder.Where(c => c.Policy is not null).SelectMany(c => c.Rules).Where(r => !accounted.Contains(r.Line)))
            plan.Fates.Add((rule.Line, LineFate.NoEffect, rule.TargetIsChain ? $"jump to {rule.Target}, which has no rules" : "no packet reaches it"));
        foreach (var chain in table.ChainOrder.Where(c => c.Policy is null))
        {
            bool reached = flattener.Reached.Contains(chain.Name);
            plan.Fates.Add((chain.Declaration, reached ? LineFate.Jump : LineFate.NoEffect, reached ? "user chain, inlined where it is jumped to" : "user chain never jumped to"));
            if (!reached)
            {
                foreach (var rule in chain.Rules)
                    plan.Fates.Add((rule.Line, LineFate.NoEffect, $"in chain {chain.Name}, which no rule of INPUT, OUTPUT or FORWARD jumps to"));
            }
        }
    }

    /// <summary>ICMPv6 neighbour discovery types (RFC 4861) by number and by the names ip6tables accepts.</summary>
    private static int? NeighbourDiscoveryType(string? type) => type?.ToLowerInvariant() switch
    {
        "133" or "router-solicitation" => 133,
        "134" or "router-advertisement" => 134,
        "135" or "neighbour-solicitation" or "neighbor-solicitation" => 135,
        "136" or "neighbour-advertisement" or "neighbor-advertisement" => 136,
        _ => null,
    };

    internal const string BuiltInNeighbourDiscovery = "the policy's built-in neighbour discovery (present when it has IPv6 peers) sends router and neighbour "
        + "solicitations and neighbour advertisements with hop limit 255 to link-scope addresses only (the kernel's own NS and NA also to a neighbour's "
        + "address), and accepts neighbour solicitations and advertisements and router advertisements with hop limit 255 only";

    /// <summary>The ND types each direction of the ruleset accepts as the policy's built-in does, with the first such line.</summary>
    private readonly Dictionary<(Direction, int), IptablesLine> _neighbourDiscovery = [];
    private bool _neighbourDiscoveryNoted;

    /// <summary>
    /// The policy's built-in ND lets its IPv6 flows reach the link; a ruleset that drops NS or NA made the same flows
    /// fail (no neighbour, no packet). So the policy would allow more than the ruleset did: refused like a missing
    /// loopback accept, unless --partial.
    /// </summary>
    private void NeighbourDiscoveryCoverage(IptablesTable filter)
    {
        bool policyHasIPv6 = plan.Egress.Concat(plan.Input).Concat(plan.Resolvers).Any(e => e.IPv6 && e.Peers is not null);
        if (!policyHasIPv6)
        {
            foreach (var line in _neighbourDiscovery.Values.Concat(_listenerDiscovery.Values).Distinct())
                Note(Severity.Info, line.At(), "neighbour or multicast listener discovery accepted, but the policy allows no IPv6 peer, so it has neither (and no IPv6 traffic on the link)", "", "ipv6-neighbour-discovery");
            return;
        }
        ListenerDiscoveryCoverage(filter);
        var missing = new List<string>();
        foreach (var (direction, chain) in new[] { (Direction.Output, "OUTPUT"), (Direction.Input, "INPUT") })
        {
            foreach (var (type, name) in new[] { (135, "neighbour solicitation"), (136, "neighbour advertisement") })
            {
                if (!_neighbourDiscovery.ContainsKey((direction, type)))
                    missing.Add($"{chain} {name} ({type})");
            }
        }
        var at = (filter.Chains.GetValueOrDefault("OUTPUT")?.Declaration ?? filter.Header).At();
        if (missing.Count > 0)
            Unsupported(at,
                $"the ruleset drops IPv6 neighbour discovery ({string.Join(", ", missing)}), so IPv6 on the link did not work under it; {BuiltInNeighbourDiscovery}, which lets the allowed IPv6 flows work: the policy would allow more than the ruleset did",
                "add '-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT' (and 136, and the same on INPUT with '-m hl --hl-eq 255') before the rules that drop, or import with --partial to take the policy's built-in neighbour discovery");
        else if (!_neighbourDiscovery.ContainsKey((Direction.Input, 134)))
            Note(Severity.Warning, at, "the ruleset accepts no router advertisements; the policy accepts them (hop limit 255), so the host may take its IPv6 address and default route from the link's router (SLAAC) where the ruleset blocked that",
                "nothing to do on a host that should follow the router; configure IPv6 statically (accept_ra=0) otherwise", "router-advertisements-accepted");
    }

    private void Unsupported(SourceLocation at, string message, string fix) =>
        plan.Unsupported.Add(new PolicyDiagnostic(Severity.Error, at, message, fix, "unsupported-rule"));

    private void Note(Severity severity, SourceLocation at, string message, string fix, string code) =>
        plan.Notes.Add(new PolicyDiagnostic(severity, at, message, fix, code));

    /// <summary>One built-in chain, its rules in the order packets meet them.</summary>
    private sealed partial class ChainAnalysis(IptablesTranslator owner, IptablesRuleset ruleset, IptablesChain chain, Direction direction, List<FlatRule> rules)
    {
        private readonly ImportPlan _plan = owner.Plan;
        private readonly List<FlatRule> _denies = [];
        private readonly List<FlatRule> _logs = [];
        private readonly List<FlatRule> _rejects = [];
        private readonly List<(FlatRule Rule, ConnState States, bool Loopback)> _accepts = [];
        private readonly List<FlatRule> _partialLoopback = [];
        private readonly List<FlatRule> _partialEstablished = [];
        private readonly HashSet<FlatRule> _shadowing = [];
        private readonly HashSet<IptablesLine> _jumps = [];
        private FlatRule? _loopback;
        private FlatRule? _terminator;
        private ConnState _established;
        private FlatRule? _establishedRule;

        private string Peer => direction == Direction.Input ? "source" : "destination";
        private string Lo => direction == Direction.Input ? "-i lo" : "-o lo";
        private string Family => ruleset.IPv6 ? "IPv6" : "IPv4";

        public void Run()
        {
            foreach (var rule in rules)
                One(rule);
            Coverage();
            ChainPolicy();
            if (direction != Direction.Forward)
                Logging();
            if (direction == Direction.Output)
                EgressEnd();
        }

        /// <summary>
        /// What OUTPUT does with what it does not accept: a chain that ends in REJECT rejects it, which the policy says
        /// with <c>egress.deny: reject</c> (ICMP administratively prohibited: a program still fails at once). Its
        /// earlier REJECTs stay rejects. In a chain that drops, each REJECT becomes a drop, and a note says so.
        /// </summary>
        private void EgressEnd()
        {
            var end = _terminator?.Target == "REJECT" ? _terminator : null;
            _plan.EgressEnds.Add(end?.Line);
            if (end is not null)
            {
                string with = end.Rule.RejectWith is { } w ? $"--reject-with {w}" : "REJECT's default (icmp-port-unreachable)";
                owner.Note(Severity.Info, end.Line.At(), $"OUTPUT ends in REJECT: the policy says 'egress.deny: reject', which answers with ICMP administratively prohibited "
                    + $"instead of {with}; a denied connection still fails at once (EHOSTUNREACH rather than ECONNREFUSED for TCP)", "nothing to do", "reject-kept");
                return;
            }
            foreach (var rule in _rejects)
                RejectAsDrop(rule, "OUTPUT does not end in REJECT, and the policy drops denied egress by default, so the local program gets no immediate error and waits for its timeout",
                    "add 'deny: reject' under 'egress:' if programs rely on the fast refusal (every denied connection then fails at once, with ICMP administratively prohibited)");
        }

        private void RejectAsDrop(FlatRule rule, string why, string fix) =>
            owner.Note(Severity.Info, rule.Line.At(), $"REJECT{(rule.Rule.RejectWith is { } w ? " --reject-with " + w : "")} becomes a drop: {why}", fix, "reject-as-drop");

        private void One(FlatRule rule)
        {
            if (_terminator is not null)
            {
                Fate(rule, LineFate.NoEffect, $"never reached: line {_terminator.Line.Number} before it ends the chain");
                return;
            }
            if (rule.NeverReached is { } unreachable)
            {
                Fate(rule, LineFate.NoEffect, unreachable);
                return;
            }
            if (rule.Never is { } never)
            {
                Fate(rule, LineFate.NoEffect, $"matches nothing: {never}");
                return;
            }
            switch (rule.Target)
            {
                case null:
                    Fate(rule, LineFate.NoEffect, "no target: iptables only counts these packets");
                    return;
                case "RETURN" when rule.ReturnsAll is { } returnsAll:
                    Fate(rule, LineFate.NoEffect, returnsAll);
                    return;
                case "RETURN":
                    var userChain = rule.Via.Count > 0 ? rule.Rule.Chain : null;
                    if (rule.Unconditional && userChain is not null)
                    {
                        Fate(rule, LineFate.NoEffect, "RETURN with no condition: the calling chain goes on, as after the last rule");
                        return;
                    }
                    NotImported(rule, "RETURN skips the rest of its chain for some packets: what the later rules mean depends on it, which an allow-list cannot say");
                    // The later rules of its chain do not see what it returns: like a deny for them (an accept after it that
                    // overlaps is not imported either, so --partial never allows more than the ruleset).
                    _denies.Add(rule);
                    return;
                case "ACCEPT":
                    Accept(rule);
                    return;
                case "DROP" or "REJECT" when rule.Rule.RoutingHeaderZero:
                    // Whatever else it matches, the policy drops every such packet (when it has IPv6 peers; otherwise all IPv6).
                    Fate(rule, LineFate.BuiltIn, "the policy drops every IPv6 packet with a type 0 routing header (RFC 5095), before all but loopback");
                    return;
                case "DROP" or "REJECT":
                    _denies.Add(rule);
                    if (rule.Unconditional)
                        _terminator = rule;
                    // On OUTPUT a REJECT is noted once the chain's end is known: a chain that ends in REJECT becomes
                    // egress.deny: reject, and its REJECTs are rejects still.
                    if (rule.Target == "REJECT" && direction == Direction.Output)
                        _rejects.Add(rule);
                    else if (rule.Target == "REJECT")
                        RejectAsDrop(rule, "a policy's input denial is always a drop, so the peer gets no RST or ICMP error and waits for its timeout",
                            "nothing to do unless peers rely on the fast refusal");
                    Fate(rule, LineFate.Denied, rule.States == ConnState.Invalid ? "INVALID: the policy drops it first"
                        : rule.Target != "REJECT" ? "denied: the policy's default drop"
                        : direction == Direction.Output ? "REJECT: see notes" : "REJECT: the policy drops (see notes)");
                    return;
                case "LOG":
                    _logs.Add(rule);
                    Fate(rule, LineFate.Log, "");
                    return;
                default:
                    NotImported(rule, rule.Unsupported.Count > 0 ? rule.Unsupported[0].Reason : $"target {rule.Target}");
                    return;
            }
        }

        private void Accept(FlatRule rule)
        {
            if (rule.Unsupported.Count > 0)
            {
                NotImported(rule, string.Join("; ", rule.Unsupported.Select(u => u.Reason)), rule.Unsupported[0].Line.At(rule.Unsupported[0].Column));
                return;
            }
            if (direction == Direction.Forward)
            {
                NotImported(rule, "ACCEPT in FORWARD: the host would route packets for others; a policy forwards nothing");
                return;
            }
            if (rule.WrongInterface is { } wrong)
            {
                NotImported(rule, $"{(direction == Direction.Input ? "-o" : "-i")} {wrong} on {chain.Name} (iptables refuses it)");
                return;
            }
            if (rule.Interface == "lo")
            {
                if (rule.States is null && rule.Protocol is null && rule.Peer is null && rule.Local is null && rule.DestinationPorts is null
                    && rule.SourcePorts is null && rule.Limit is null && rule.IcmpType is null && rule.HopLimit is null && rule.UidOwner is null)
                {
                    // After a first such accept, no loopback packet reaches this one (ufw's `allow out on lo` after its own).
                    if (_loopback is { } earlier)
                    {
                        Fate(rule, LineFate.NoEffect, $"never reached: line {earlier.Line.Number} before it accepts all loopback traffic");
                        return;
                    }
                    Shadowed(rule, ConnState.All, loopback: true);
                    _loopback = rule;
                    Fate(rule, LineFate.BuiltIn, "loopback: every policy accepts it");
                }
                else
                {
                    _partialLoopback.Add(rule);
                }
                return;
            }
            if (rule.Interface is { } other)
            {
                NotImported(rule, $"interface {other}: a policy does not match interfaces (only loopback, which it always accepts)");
                return;
            }
            var states = rule.States ?? ConnState.All;
            var tracked = states & (ConnState.Established | ConnState.Related);
            if ((states & ~(ConnState.New | ConnState.Established | ConnState.Related)) != 0 && rule.States is not null)
            {
                NotImported(rule, $"accepts {states & ~(ConnState.New | ConnState.Established | ConnState.Related)} packets: the policy drops INVALID first and has no entry for the other states");
                return;
            }
            if (rule.States is not null && (states & ConnState.New) == 0)
            {
                Shadowed(rule, tracked, loopback: false);
                if (rule.OnlyStates)
                {
                    _established |= tracked;
                    _establishedRule ??= rule;
                    Fate(rule, LineFate.BuiltIn, direction == Direction.Input && (tracked & ConnState.Related) != 0 ? "established traffic; RELATED for ICMP errors only, see notes" : "established traffic");
                }
                else
                {
                    _partialEstablished.Add(rule);
                }
                return;
            }
            // An allow: NEW connections (and, without a state match, the rest of their packets, which the policy's
            // established rule accepts anyway when the ruleset accepts established traffic as a whole).
            if (NeighbourDiscovery(rule) || ListenerDiscovery(rule))
                return;
            if (Inexpressible(rule) is { } reason)
            {
                NotImported(rule, reason);
                return;
            }
            if (rule.DestinationPorts?.SelectMany(p => p.Ranges).Any(r => r.Last == 0) == true)
            {
                NotImported(rule, "port 0 is not a port a connection can use; a policy names ports 1 to 65535");
                return;
            }
            var exceptions = Exceptions(rule);
            if (exceptions is not null)
            {
                var kept = AddressExceptions.Without(rule.Peer, exceptions, ruleset.IPv6);
                string denyLines = string.Join(", ", exceptions.Select(d => d.Line.Number).Distinct());
                if (kept.Count == 0)
                {
                    Fate(rule, LineFate.NoEffect, $"allows nothing: line(s) {denyLines} before it deny every address it accepts");
                    return;
                }
                rule.Peer = kept;
                foreach (var deny in exceptions)
                    Refate(deny, LineFate.Denied, $"an exception to line {rule.Line.Number}'s allow entry, which leaves its addresses out");
            }
            else if (!Shadowed(rule, ConnState.New | ConnState.Untracked, loopback: false))
                return;
            var entry = new ImportedEntry { Egress = direction == Direction.Output, IPv6 = ruleset.IPv6, Comment = rule.Comment, Owner = rule.UidOwner };
            entry.Peers = rule.Peer?.ToList();
            var ports = rule.DestinationPorts?.ToList() ?? [new PortItem("1:65535", [(1, 65535)])];
            (rule.Protocol == "tcp" ? entry.Tcp : entry.Udp).AddRange(ports);
            // The exceptions are cited just before the accept's own line, which stays last (the entry is named after it).
            entry.Lines.AddRange(rule.Lines.SkipLast(1));
            entry.Lines.AddRange(exceptions?.Select(d => d.Line) ?? []);
            entry.Lines.Add(rule.Line);
            (direction == Direction.Output ? _plan.Egress : _plan.Input).Add(entry);
            Fate(rule, LineFate.Entry, "");
            if (rule.DestinationPorts?.SelectMany(p => p.Ranges).Any(r => r.First == 0) == true)
                owner.Note(Severity.Info, rule.Line.At(), "a port range starting at 0 starts at 1 in the policy (port 0 carries no connection)", "", "port-zero");
        }

        /// <summary>
        /// The conntrack state of neighbour and multicast listener discovery: untracked (the kernel's ICMPv6 tracker
        /// leaves these types alone), so a DROP of INVALID packets before their accepts takes nothing from them, as on
        /// ufw's IPv6 chains; the policy itself drops INVALID before its own built-ins.
        /// </summary>
        private const ConnState LinkControlStates = ConnState.Untracked;

        /// <summary>
        /// An ND accept the policy's built-in covers is accounted as built in; one that accepts something the built-in
        /// does not (a router's messages, another hop limit, a limit, a port) is refused: the policy would deny it.
        /// False when the rule is not neighbour discovery.
        /// </summary>
        private bool NeighbourDiscovery(FlatRule rule)
        {
            if (!ruleset.IPv6 || rule.Protocol != "ipv6-icmp" || NeighbourDiscoveryType(rule.IcmpType) is not { } type || direction == Direction.Forward)
                return false;
            string? refused = type switch
            {
                133 when direction == Direction.Input => "accepts router solicitations: a host is not a router, and the policy's built-in neighbour discovery does not accept them",
                134 when direction == Direction.Output => "sends router advertisements: a host is not a router, and the policy's built-in neighbour discovery does not send them",
                _ when rule.HopLimit is not (null or "255") => $"accepts neighbour discovery with hop limit {rule.HopLimit}: it is valid with hop limit 255 only (RFC 4861), the only one the policy's built-in accepts",
                _ when rule.Peer is not null || rule.Local is not null => "neighbour discovery for some addresses only: the policy's built-in neighbour discovery is not per address (it allows what the kernel needs on the link)",
                _ when rule.Limit is not null || rule.SourcePorts is not null || rule.DestinationPorts is not null => "neighbour discovery with a rate limit or ports: the policy's built-in neighbour discovery has neither",
                _ when rule.UidOwner is not null => "neighbour discovery from one user's sockets: the policy's built-in neighbour discovery is not per user",
                _ => null,
            };
            if (refused is not null)
            {
                NotImported(rule, refused + "; " + BuiltInNeighbourDiscovery);
                return true;
            }
            if (!Shadowed(rule, LinkControlStates, loopback: false))
                return true;
            owner._neighbourDiscovery.TryAdd((direction, type), rule.Line);
            string narrower = rule.HopLimit is null && type != 134
                ? "; the policy also requires hop limit 255, as every receiver does (RFC 4861), and sends only to link-scope addresses unless the kernel itself sends"
                : "";
            Fate(rule, LineFate.BuiltIn, $"neighbour discovery (type {type}){narrower}");
            if (!owner._neighbourDiscoveryNoted && (owner._neighbourDiscoveryNoted = true))
                owner.Note(Severity.Info, rule.Line.At(), $"neighbour discovery accepts are built in: {BuiltInNeighbourDiscovery}", "", "ipv6-neighbour-discovery");
            return true;
        }

        private string? Inexpressible(FlatRule rule) =>
            rule.Protocol switch
            {
                null => $"accepts every protocol (ICMP included){(rule.Peer is null ? "" : " for these addresses")}: a policy allows TCP and UDP ports only",
                "icmp" or "ipv6-icmp" => $"accepts {rule.Protocol}{(rule.IcmpType is { } t ? " type " + t : "")}: a policy has no ICMP entries (it accepts ICMP errors about allowed connections by itself, and IPv6 neighbour discovery when it has IPv6 peers)",
                _ when rule.UidOwner is not null && direction != Direction.Output => $"-m owner on {chain.Name}: a socket's owner is known on OUTPUT only (iptables-restore refuses it here)",
                _ when rule.SourcePorts is not null => "matches a source port: a policy matches destination ports only",
                _ when rule.Limit is not null => "a rate-limited ACCEPT: a policy allows a flow or not",
                _ when rule.Local is not null => direction == Direction.Output
                    ? "matches the host's own source address (-s on OUTPUT): a policy matches the destination"
                    : "matches the host's own destination address (-d on INPUT): a policy matches the source",
                _ => null,
            };

        /// <summary>
        /// The earlier denies that take part of what the allow <paramref name="rule"/> accepts, when each takes away
        /// just some of its addresses (<see cref="AddressExceptions"/>), so that the allow without them says the same;
        /// null when none overlaps or one takes something else (then <see cref="Shadowed"/> decides).
        /// </summary>
        private List<FlatRule>? Exceptions(FlatRule rule)
        {
            var overlapping = _denies.Where(d => Overlaps(d, rule, ConnState.New | ConnState.Untracked, loopback: false)).ToList();
            return overlapping.Count > 0 && overlapping.All(d => AddressExceptions.IsExceptionTo(d, rule)) ? overlapping : null;
        }

        /// <summary>
        /// True when no earlier DROP or REJECT takes part of what <paramref name="rule"/> accepts; otherwise both are
        /// listed (the deny, and the accept that an allow-list would make whole again) and false.
        /// </summary>
        private bool Shadowed(FlatRule rule, ConnState states, bool loopback)
        {
            bool clear = true;
            foreach (var deny in _denies)
            {
                if (!Overlaps(deny, rule, states, loopback))
                    continue;
                clear = false;
                if (deny.Target != "RETURN" && _shadowing.Add(deny))
                {
                    // A condition the importer does not read counts as matching: say which, so the line is not a riddle.
                    string takes = deny.Unsupported.Count > 0
                        ? $"may take away part of what that line accepts ({deny.Unsupported[0].Reason}, so it counts as matching every packet)"
                        : "takes away part of what that line accepts";
                    Refate(deny, $"denies part of what line {rule.Line.Number} accepts after it");
                    owner.Unsupported(deny.Line.At(), $"{deny.Target} before line {rule.Line.Number}'s ACCEPT {takes}: an allow-list has no exceptions, it would accept all of it", Fix);
                }
            }
            if (!clear)
            {
                var first = _denies.First(d => Overlaps(d, rule, states, loopback));
                string verb = first.Target switch { "REJECT" => "reject", "RETURN" => "return", _ => "drop" };
                NotImported(rule, first.Unsupported.Count > 0
                    ? $"line {first.Line.Number} before it may {verb} part of what it accepts (a condition there the importer does not read counts as matching; an allow entry would accept all of it)"
                    : $"line {first.Line.Number} before it {verb}s part of what it accepts (an allow entry would accept all of it)");
            }
            return clear;
        }

        /// <summary>Whether some packet matches both <paramref name="deny"/> and the accept; unknown conditions count as matching.</summary>
        internal static bool Overlaps(FlatRule deny, FlatRule accept, ConnState acceptStates, bool loopback)
        {
            if (deny.Unsupported.Count > 0)
                return true;
            if (deny.Protocol is not null && accept.Protocol is not null && deny.Protocol != accept.Protocol)
                return false;
            if (((deny.States ?? ConnState.All) & acceptStates) == 0)
                return false;
            if (loopback ? deny.Interface is not null && deny.Interface != "lo" : deny.Interface == "lo")
                return false;
            if (deny.Peer is not null && accept.Peer is not null
                && !deny.Peer.SelectMany(d => d.Networks).Any(d => accept.Peer.SelectMany(a => a.Networks).Any(a => AddressMath.Overlap(a, d))))
                return false;
            // Two uids never own one socket (a uid and a user name may: counted as matching).
            if (deny.UidOwner is not null && accept.UidOwner is not null && deny.UidOwner != accept.UidOwner
                && IptablesValues.IsUid(deny.UidOwner) && IptablesValues.IsUid(accept.UidOwner))
                return false;
            if (deny.DestinationPorts is not null && accept.DestinationPorts is not null
                && !deny.DestinationPorts.SelectMany(d => d.Ranges).Any(d => accept.DestinationPorts.SelectMany(a => a.Ranges).Any(a => a.First <= d.Last && d.First <= a.Last)))
                return false;
            if (deny.SourcePorts is not null && accept.SourcePorts is not null
                && !deny.SourcePorts.SelectMany(d => d.Ranges).Any(d => accept.SourcePorts.SelectMany(a => a.Ranges).Any(a => a.First <= d.Last && d.First <= a.Last)))
                return false;
            return true;
        }

        /// <summary>Loopback and established traffic: the policy accepts all of it; the ruleset must too.</summary>
        private void Coverage()
        {
            if (direction == Direction.Forward)
                return;
            var at = chain.Declaration.At();
            if (_loopback is null)
                owner.Unsupported(_partialLoopback.FirstOrDefault()?.Line.At() ?? at,
                    $"{chain.Name} does not accept all loopback traffic ({Lo}), which every policy accepts: {Family} traffic between programs on this host would be allowed where the ruleset denies it",
                    $"add '-A {chain.Name} {Lo} -j ACCEPT' first if that is what you want, or import with --partial");
            foreach (var rule in _partialLoopback)
                Fate(rule, _loopback is null ? LineFate.NotImported : LineFate.BuiltIn, _loopback is null ? "part of loopback (see the error)" : $"loopback: covered by line {_loopback.Line.Number}");
            var needed = direction == Direction.Output ? ConnState.Established | ConnState.Related : ConnState.Established;
            var missing = needed & ~_established;
            if (missing != 0)
            {
                string what = direction == Direction.Output
                    ? "the policy accepts ESTABLISHED and RELATED traffic on output (replies, and ICMP errors about accepted connections)"
                    : "the policy accepts ESTABLISHED traffic on input (replies to the host's connections)";
                owner.Unsupported(_establishedRule?.Line.At() ?? at,
                    $"{chain.Name} does not accept {missing.ToString().ToUpperInvariant().Replace(", ", " and ")} traffic as a whole; {what}, so it would allow packets the ruleset drops",
                    $"add '-A {chain.Name} -m conntrack --ctstate {(direction == Direction.Output ? "ESTABLISHED,RELATED" : "ESTABLISHED,RELATED")} -j ACCEPT' near the top, or import with --partial");
            }
            foreach (var rule in _partialEstablished)
                Fate(rule, missing != 0 ? LineFate.NotImported : LineFate.BuiltIn, missing != 0 ? "established traffic of part of the flows (see the error)" : "established traffic");
            if (direction == Direction.Input && (_established & ConnState.Related) == 0)
                owner.Unsupported(_establishedRule?.Line.At() ?? at,
                    "INPUT does not accept RELATED ICMP errors; the policy accepts ICMP errors about the host's own connections (path MTU, unreachable)",
                    "add RELATED to the established rule (the policy accepts it for ICMP only), or import with --partial");
            else if (direction == Direction.Input)
                owner.Note(Severity.Warning, (_establishedRule?.Line ?? chain.Declaration).At(), "RELATED is accepted on INPUT for every protocol; the policy accepts RELATED for ICMP errors only (RELATED must not be a back channel): "
                    + "a helper-made related connection (FTP data, for instance) that the ruleset accepts is dropped", "nothing to do unless the host uses conntrack helpers", "related-input-narrowed");
        }

        private void ChainPolicy()
        {
            string what = direction switch
            {
                Direction.Output => "everything the rules do not drop may leave the host: that is not an allow-list",
                Direction.Input => "everything the rules do not drop may reach the host",
                _ => "the host routes packets for others; a policy forwards nothing",
            };
            var declaration = chain.Declaration;
            if (chain.Policy == "ACCEPT" && _terminator is null)
            {
                owner.Unsupported(declaration.At(), chain.Declared ? $"{chain.Name}'s policy is ACCEPT: {what}" : $"{chain.Name} is not declared, so its policy is ACCEPT: {what}",
                    $"set ':{chain.Name} DROP [0:0]' after checking what must be allowed, or import with --partial");
                if (chain.Declared)
                    _plan.Fates.Add((declaration, LineFate.NotImported, "policy ACCEPT"));
            }
            else if (chain.Declared)
            {
                _plan.Fates.Add((declaration, LineFate.BuiltIn, chain.Policy == "DROP" ? "default drop" : $"policy ACCEPT never applies: line {_terminator!.Line.Number} drops everything first"));
            }
        }

        /// <summary>
        /// The policy logs every packet it drops, with one prefix (and a derived one on input) and one rate. OUTPUT's
        /// first LOG rule that logs only what the chain then drops gives them (ufw's "[UFW BLOCK] ", not the "[UFW
        /// AUDIT] " of new connections it logs before accepting them), else its first LOG rule; what differs from the
        /// ruleset is a note (logging changes no verdict).
        /// </summary>
        private void Logging()
        {
            var position = new Dictionary<FlatRule, int>(ReferenceEqualityComparer.Instance);
            for (int i = 0; i < rules.Count; i++)
                position[rules[i]] = i;
            // The first accept after a LOG rule that takes some of the packets it logs; null when it logs only drops.
            FlatRule? AcceptedAfter(FlatRule log) =>
                _accepts.FirstOrDefault(a => position[a.Rule] > position[log] && Overlaps(log, a.Rule, a.States, a.Loopback)).Rule;
            var log = _logs.FirstOrDefault(l => AcceptedAfter(l) is null) ?? _logs.FirstOrDefault();
            if (log is null)
            {
                if (direction == Direction.Output && _plan.Log is null && !ruleset.IPv6)
                    owner.Note(Severity.Info, chain.Declaration.At(), "OUTPUT has no LOG rule: the policy still sends every denial to NFLOG group 100 (netlinkfence watch), without a kernel log line",
                        "add 'log: { prefix: \"EGRESS-DENIED: \", rate: 10/second }' to the policy for kernel log lines", "no-log-rule");
                return;
            }
            if (direction == Direction.Output && _plan.Log is null)
            {
                string? prefix = log.Rule.LogPrefix;
                if (prefix is not null && !ValidPrefix(prefix))
                {
                    owner.Note(Severity.Warning, log.Line.At(), $"log prefix '{IptablesSaveParser.Printable(prefix)}' cannot be a policy's prefix (printable ASCII without '\"' or '$', 1 to 127 bytes); denials are logged without it",
                        "choose a plain prefix such as \"EGRESS-DENIED: \"", "log-prefix-not-imported");
                    prefix = null;
                }
                if (log.Rule.LogPrefix is null)
                    owner.Note(Severity.Info, log.Line.At(), "LOG without --log-prefix: a policy writes kernel log lines only with a prefix, so denials go to NFLOG group 100 only",
                        "add 'prefix:' under log: for kernel log lines", "log-without-prefix");
                _plan.Log = new ImportedLog(prefix, log.Limit, log.Line);
            }
            else if (direction == Direction.Input && _plan.Log is { } outputLog)
            {
                string? expected = new LogSettings(outputLog.Prefix).InputPrefix;
                if (log.Rule.LogPrefix != expected)
                    owner.Note(Severity.Info, log.Line.At(), $"input denials are logged with prefix '{expected ?? "(none)"}' (derived from the output prefix), not '{IptablesSaveParser.Printable(log.Rule.LogPrefix ?? "(none)")}'",
                        "", "input-log-prefix");
                if (log.Limit != outputLog.Rate)
                    owner.Note(Severity.Info, log.Line.At(), "input denials are logged at the output LOG rule's rate (a policy has one log rate)", "", "input-log-rate");
            }
            else if (direction == Direction.Input)
            {
                owner.Note(Severity.Warning, log.Line.At(), "INPUT logs but OUTPUT does not: a policy has one log prefix, taken from OUTPUT, so input denials go to NFLOG only",
                    "add a LOG rule at the end of OUTPUT, or 'log:' to the policy", "input-log-not-imported");
            }
            foreach (var other in _logs.Where(l => l != log))
            {
                if (AcceptedAfter(other) is { } accepted)
                    owner.Note(Severity.Warning, other.Line.At(), $"logs packets that line {accepted.Line.Number} then accepts (an audit of allowed traffic); the policy logs only what it drops, with line {log.Line.Number}'s settings", "", "log-before-accept");
                else
                    owner.Note(Severity.Warning, other.Line.At(), $"a second LOG rule on {chain.Name}: the policy logs each denial once, with line {log.Line.Number}'s settings", "", "extra-log-rule");
            }
            if (!WholeLog(log))
                owner.Note(Severity.Warning, log.Line.At(), "this LOG rule logs only part of the traffic; the policy logs every denied packet", "", "partial-log");
            int index = position[log];
            if (AcceptedAfter(log) is { } acceptedAfterLog)
                owner.Note(Severity.Warning, log.Line.At(), $"logs packets that line {acceptedAfterLog.Line.Number} then accepts; the policy logs only what it drops", "", "log-before-accept");
            foreach (var deny in _denies.Where(d => position[d] < index && d.States != ConnState.Invalid && d.Target != "RETURN"))
            {
                owner.Note(Severity.Info, deny.Line.At(), $"the ruleset drops these packets before its LOG rule (line {log.Line.Number}) sees them; the policy logs them too", "", "drop-before-log");
                break;
            }
            foreach (var ignored in log.Rule.Ignored)
                owner.Note(Severity.Info, log.Line.At(), $"LOG option '{ignored}' is not imported (a policy logs with the kernel's default level)", "", "log-option-ignored");
            if (log.Rule.LimitBurst is { } burst && burst != "5")
                owner.Note(Severity.Info, log.Line.At(), $"--limit-burst {burst} is not imported (the policy's log limit has nftables' default burst of 5)", "", "log-burst-ignored");
        }

        /// <summary>A LOG rule with no condition but its rate limit: it logs everything that reaches it.</summary>
        private static bool WholeLog(FlatRule log) =>
            log.Protocol is null && log.Peer is null && log.Local is null && log.Interface is null && log.WrongInterface is null && log.DestinationPorts is null
            && log.SourcePorts is null && log.States is null && log.IcmpType is null && log.HopLimit is null && log.Unsupported.Count == 0 && log.Never is null;

        private static bool ValidPrefix(string prefix)
        {
            var check = new PolicyRules();
            return check.LogPrefix(prefix, SourceLocation.Code) is not null;
        }

        private void Fate(FlatRule rule, LineFate fate, string why)
        {
            foreach (var via in rule.Via)
            {
                if (_jumps.Add(via.Line))
                    _plan.Fates.Add((via.Line, LineFate.Jump, $"to {via.Target}: its rules are inlined here"));
            }
            _plan.Fates.Add((rule.Line, fate, why));
            if (rule.Target == "ACCEPT" && fate is LineFate.Entry or LineFate.BuiltIn)
                _accepts.Add((rule, fate == LineFate.Entry ? ConnState.New | ConnState.Untracked : rule.States ?? ConnState.All, rule.Interface == "lo"));
        }

        private void Refate(FlatRule rule, string why) => Refate(rule, LineFate.NotImported, why);

        private void Refate(FlatRule rule, LineFate fate, string why)
        {
            int i = _plan.Fates.FindLastIndex(f => f.Line == rule.Line);
            if (i >= 0)
                _plan.Fates[i] = (rule.Line, fate, why);
        }

        private void NotImported(FlatRule rule, string reason, SourceLocation? at = null)
        {
            owner.Unsupported(at ?? rule.Line.At(), $"{(rule.Via.Count > 0 ? $"(reached from {chain.Name} through line {rule.Via[0].Line.Number}) " : "")}{reason}", Fix);
            Fate(rule, LineFate.NotImported, reason);
        }
    }
}
