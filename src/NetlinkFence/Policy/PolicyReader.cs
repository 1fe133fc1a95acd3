using System.Net;
using YamlDotNet.RepresentationModel;

namespace NetlinkFence.Policy;

/// <summary>
/// Walks a parsed YAML document into an <see cref="EgressPolicy"/>, collecting every error with its location.
/// The shape (keys, lists, scalars) is checked here; the values are checked by <see cref="PolicyRules"/>,
/// the same rules <see cref="PolicyBuilder"/> uses.
/// </summary>
internal sealed class PolicyReader(string fileName)
{
    private static readonly string[] RootKeys = ["version", "table", "define", "hosts", "log", "input", "egress", "selftest"];
    private static readonly string[] SelfTestKeys = ["allow", "deny"];
    private static readonly string[] LogKeys = ["prefix", "rate", "group", "remote"];
    private static readonly string[] RemoteKeys = ["tls", "ca", "cert", "key", "queue", "heartbeat", "failback"];
    private static readonly string[] InputKeys = ["allow"];
    private static readonly string[] InputAllowKeys = ["name", "from", "tcp", "udp", "by"];
    private static readonly string[] EgressKeys = ["dns", "allow", "deny"];
    private static readonly string[] DnsKeys = ["resolvers", "min_ttl", "max_ttl", "grace", "max_addresses_per_name"];
    private static readonly string[] EgressAllowKeys = ["name", "to", "tcp", "udp", "window", "resolve", "by"];
    private static readonly string[] ByKeys = ["unit", "cgroup", "user", "uid", "when_absent"];

    /// <summary>
    /// Keys an entry of the other direction has, and why this one cannot: a plain "unknown key" would not say. Never
    /// listed as allowed. 'by' is read on input entries, to refuse it with the entry's name and the reason
    /// (<c>by-on-input</c>); it is here so that an input entry's "allowed here" list leaves it out, and its text is not shown.
    /// </summary>
    private static readonly Dictionary<string, string> NotOnInput = new(StringComparer.Ordinal)
    {
        ["window"] = "windows are egress only (a window lets the host reach a destination for a while); to let a peer in for a while, add the entry when it is needed and apply again",
        ["to"] = "an input entry names who may connect to the host with 'from:'; where the host may connect goes under egress.allow",
        ["resolve"] = "'resolve: lazy' is for egress names that may not resolve when the policy is applied",
        ["by"] = "input entries cannot have 'by:'",
    };

    private static readonly Dictionary<string, string> NotOnEgress = new(StringComparer.Ordinal)
    {
        ["from"] = "an egress entry names where the host may connect with 'to:'; who may connect to the host goes under input.allow",
    };

    private readonly PolicyRules _rules = new();

    /// <summary>Problems found before <see cref="Read"/> (e.g. by the loader: duplicate keys, extra documents).</summary>
    public void Error(SourceLocation location, string message, string fix, string code) => _rules.Error(location, message, fix, code);

    public EgressPolicy Read(YamlNode root)
    {
        if (root is not YamlMappingNode map)
        {
            Error(root, "the file is not a policy: a policy is a YAML mapping with keys such as version, define, egress (its content is not shown)", "check the path, or start from examples/ironclaw-agent.yaml", "not-a-mapping");
            _rules.ThrowIfErrors();
            throw new InvalidOperationException("unreachable");
        }
        if (!map.Children.Keys.Any(k => k is YamlScalarNode { Value: { } key } && RootKeys.Contains(key)))
        {
            // Not a policy at all, e.g. a wrong path to /etc/shadow: its lines must not be echoed as unknown keys.
            Error(root, $"the file is not a policy: none of its top-level keys is one of {string.Join(", ", RootKeys)} (its content is not shown)",
                "check the path; a policy starts with 'version: 1' (see examples/ironclaw-agent.yaml)", "not-a-policy");
            _rules.ThrowIfErrors();
        }
        var keys = Keys(map, RootKeys, "the policy");

        if (!keys.TryGetValue("version", out var version))
            Error(map, "missing 'version'", "add 'version: 1' at the top", "missing-version");
        else if (Scalar(version, "version") is { } v && v != "1")
            Error(version, $"unsupported policy version '{v}'", "this netlinkfence reads 'version: 1'", "bad-version");

        string table = "netlinkfence";
        if (keys.TryGetValue("table", out var tableNode) && Scalar(tableNode, "table") is { } t)
            table = _rules.TableName(t, Location(tableNode)) ?? table;

        if (keys.TryGetValue("define", out var define))
            ReadDefines(define);
        var hosts = new Dictionary<string, IReadOnlyList<IPAddress>>(StringComparer.OrdinalIgnoreCase);
        if (keys.TryGetValue("hosts", out var hostsNode) && Mapping(hostsNode, "hosts") is { } hostsMap)
        {
            foreach (var (keyNode, value) in hostsMap.Children)
            {
                if (Scalar(keyNode, "host name") is { } name)
                    _rules.Pin(name, Location(keyNode), Items(value, $"hosts.{name}"), Location(value), hosts);
            }
        }
        var log = keys.TryGetValue("log", out var logNode) ? ReadLog(logNode) : new LogSettings(null);

        var input = new List<AllowEntry>();
        if (keys.TryGetValue("input", out var inputNode) && Mapping(inputNode, "input") is { } inputMap)
        {
            var inputKeys = Keys(inputMap, InputKeys, "input");
            if (inputKeys.TryGetValue("allow", out var allow))
                input = ReadAllowList(allow, "input.allow", InputAllowKeys, "from");
        }

        var resolvers = new List<Destination>();
        var dnsSettings = DnsSettings.Default;
        var egress = new List<AllowEntry>();
        var deny = DenyAction.Drop;
        if (keys.TryGetValue("egress", out var egressNode) && Mapping(egressNode, "egress") is { } egressMap)
        {
            var egressKeys = Keys(egressMap, EgressKeys, "egress");
            if (egressKeys.TryGetValue("dns", out var dns) && Mapping(dns, "egress.dns") is { } dnsMap)
            {
                var dnsKeys = Keys(dnsMap, DnsKeys, "egress.dns");
                if (!dnsKeys.TryGetValue("resolvers", out var resolverNode))
                    Error(dns, "egress.dns has no 'resolvers'", "name your resolvers (DNS to any address is never allowed), or remove 'dns:' to deny DNS", "dns-without-resolvers");
                else
                    resolvers = Destinations(resolverNode, "egress.dns.resolvers");
                dnsSettings = ReadDnsSettings(dnsKeys);
            }
            if (egressKeys.TryGetValue("allow", out var allow))
                egress = ReadAllowList(allow, "egress.allow", EgressAllowKeys, "to");
            if (egressKeys.TryGetValue("deny", out var denyNode) && Scalar(denyNode, "egress.deny") is { } d)
                deny = _rules.DenyAction(d, Location(denyNode)) ?? deny;
        }
        _rules.CheckUniqueNames(egress, "egress.allow");
        _rules.CheckUniqueNames(input, "input.allow");

        var selfTest = keys.TryGetValue("selftest", out var selfTestNode) ? ReadSelfTest(selfTestNode, resolvers, [.. egress, .. input]) : SelfTest.None;

        _rules.ThrowIfErrors();
        return new EgressPolicy(table, log, hosts, resolvers, egress, input, fileName) { SelfTest = selfTest, Dns = dnsSettings, EgressDeny = deny, ReadNotes = _rules.Notes };
    }

    private DnsSettings ReadDnsSettings(Dictionary<string, YamlNode> keys)
    {
        var settings = DnsSettings.Default;
        if (keys.TryGetValue("min_ttl", out var minTtl) && Scalar(minTtl, "egress.dns.min_ttl") is { } m && _rules.DnsDuration(m, "min_ttl", TimeSpan.FromSeconds(1), Location(minTtl)) is { } floor)
            settings = settings with { MinTtl = floor };
        bool capRead = false;
        if (keys.TryGetValue("max_ttl", out var maxTtl) && Scalar(maxTtl, "egress.dns.max_ttl") is { } c && _rules.DnsDuration(c, "max_ttl", TimeSpan.FromSeconds(1), Location(maxTtl)) is { } cap)
            (settings, capRead) = (settings with { MaxTtl = cap }, true);
        if (keys.TryGetValue("grace", out var grace) && Scalar(grace, "egress.dns.grace") is { } g && _rules.DnsDuration(g, "grace", TimeSpan.Zero, Location(grace)) is { } span)
            settings = settings with { Grace = span };
        if (keys.TryGetValue("max_addresses_per_name", out var max) && Scalar(max, "egress.dns.max_addresses_per_name") is { } x && _rules.MaxAddressesPerName(x, Location(max)) is { } most)
            settings = settings with { MaxAddressesPerName = most };
        if (maxTtl is null && settings.MinTtl > settings.MaxTtl)
            settings = settings with { MaxTtl = settings.MinTtl }; // the default cap never undercuts a floor the file raised
        else if (capRead) // a max_ttl that did not read is one error already, not also one about the default cap
            _rules.CheckTtlBounds(settings, Location(maxTtl!));
        return settings;
    }

    private void ReadDefines(YamlNode node)
    {
        if (Mapping(node, "define") is not { } map)
            return;
        foreach (var (keyNode, value) in map.Children)
        {
            if (Scalar(keyNode, "variable name") is { } name)
                _rules.Define(name, Location(keyNode), Items(value, $"define.{name}"));
        }
    }

    private SelfTest ReadSelfTest(YamlNode node, List<Destination> resolvers, List<AllowEntry> entries)
    {
        if (Mapping(node, "selftest") is not { } map)
            return SelfTest.None;
        var keys = Keys(map, SelfTestKeys, "selftest");
        List<(string, SourceLocation)> Read(string key) => keys.TryGetValue(key, out var list) ? Items(list, $"selftest.{key}") : [];
        return SelfTestRules.Test(_rules, resolvers, entries, Read("allow"), "selftest.allow", Read("deny"), "selftest.deny");
    }

    private LogSettings ReadLog(YamlNode node)
    {
        if (Mapping(node, "log") is not { } map)
            return new LogSettings(null);
        var keys = Keys(map, LogKeys, "log");
        string? prefix = null;
        if (keys.TryGetValue("prefix", out var prefixNode) && Scalar(prefixNode, "log.prefix") is { } p)
            prefix = _rules.LogPrefix(p, Location(prefixNode));
        (ulong Count, ulong UnitSeconds)? rate = null;
        if (keys.TryGetValue("rate", out var rateNode) && Scalar(rateNode, "log.rate") is { } r)
            rate = _rules.LogRate(r, Location(rateNode));
        ushort? group = null;
        if (keys.TryGetValue("group", out var groupNode) && Scalar(groupNode, "log.group") is { } g)
            group = _rules.LogGroup(g, Location(groupNode));
        var remote = keys.TryGetValue("remote", out var remoteNode) ? ReadRemote(remoteNode) : null;
        return new LogSettings(prefix, rate?.Count, rate?.UnitSeconds ?? 1, group) { Remote = remote };
    }

    private RemoteLogSettings? ReadRemote(YamlNode node)
    {
        if (Mapping(node, "log.remote") is not { } map)
            return null;
        var keys = Keys(map, RemoteKeys, "log.remote");
        (string, SourceLocation)? Value(string key) =>
            keys.TryGetValue(key, out var value) && Scalar(value, $"log.remote.{key}") is { } text ? (text, Location(value)) : null;
        int before = _rules.Diagnostics.Count;
        var tls = keys.TryGetValue("tls", out var tlsNode) ? Collectors(tlsNode) : null;
        var ca = Value("ca");
        var cert = Value("cert");
        var key = Value("key");
        var queue = Value("queue");
        var heartbeat = Value("heartbeat");
        var failback = Value("failback");
        // A key that is present but not a value was reported just now; do not also call it missing.
        if (_rules.Diagnostics.Count != before)
            return null;
        return RemoteLogRules.Check(_rules, Location(map), tls, ca, cert, key, queue, heartbeat, failback);
    }

    /// <summary><c>log.remote.tls</c>: one collector, or a list of them, the first preferred.</summary>
    private List<(string, SourceLocation)> Collectors(YamlNode node)
    {
        var items = node is YamlSequenceNode list ? list.Children.ToList() : [node];
        var collectors = new List<(string, SourceLocation)>();
        int index = 0;
        foreach (var item in items)
        {
            index++;
            if (Scalar(item, node is YamlSequenceNode ? $"log.remote.tls[{index}]" : "log.remote.tls") is { } text)
                collectors.Add((text, Location(item)));
        }
        return collectors;
    }

    private List<AllowEntry> ReadAllowList(YamlNode node, string path, string[] allowedKeys, string peerKey)
    {
        bool egress = peerKey == "to";
        var entries = new List<AllowEntry>();
        if (node is not YamlSequenceNode list)
        {
            Error(node, $"{path} must be a list of entries", $"write each entry as '- {{ name: ..., {peerKey}: [...], tcp: [...] }}', or '[]' for none", "not-a-list");
            return entries;
        }
        int index = 0;
        foreach (var item in list.Children)
        {
            index++;
            string where = $"{path}[{index}]";
            if (Mapping(item, where) is not { } map)
                continue;
            var keys = Keys(map, allowedKeys, where, egress ? NotOnEgress : NotOnInput);
            string name = $"{(egress ? "allow" : "input")}-{index}";
            if (keys.TryGetValue("name", out var nameNode))
            {
                if (Scalar(nameNode, "name") is { } n)
                    name = _rules.EntryName(n, Location(nameNode)) ?? name;
            }
            else if (egress)
            {
                Error(map, $"{where} has no 'name'", "name every egress entry, e.g. 'name: ironclaw-control': the name is the rule's comment in the ruleset and in logs", "missing-name");
            }
            TimeSpan? window = null;
            if (keys.TryGetValue("window", out var windowNode) && Scalar(windowNode, "window") is { } w)
                window = _rules.Window(w, Location(windowNode));

            // Egress needs 'to'. Input without 'from' means any source (lint warns), but a 'from' that is
            // present and empty is an error: it must never be read as "from anywhere".
            List<Destination> peers = [];
            if (keys.TryGetValue(peerKey, out var peerNode))
                peers = Destinations(peerNode, $"{where}.{peerKey}");
            else if (egress)
                Error(map, $"{where} ('{name}') has no '{peerKey}'", $"list the destinations in '{peerKey}:', e.g. 'to: [203.0.113.50]'", "missing-destinations");

            int before = _rules.Diagnostics.Count;
            var tcp = keys.TryGetValue("tcp", out var tcpNode) ? _rules.Ports(Items(tcpNode, $"{where}.tcp"), $"{where}.tcp") : [];
            var udp = keys.TryGetValue("udp", out var udpNode) ? _rules.Ports(Items(udpNode, $"{where}.udp"), $"{where}.udp") : [];
            _rules.RequirePorts(tcp, udp, before, where, name, Location(map));
            bool lazy = keys.TryGetValue("resolve", out var resolve) && Scalar(resolve, $"{where}.resolve") is { } r && _rules.ResolveMode(r, Location(resolve));
            List<ServiceScope> by = [];
            if (keys.TryGetValue("by", out var byNode))
            {
                if (egress)
                    by = ReadBy(byNode, $"{where}.by");
                else
                    Error(byNode, $"{where} ('{name}') has 'by:', which input entries cannot have",
                        "the kernel filters an incoming packet before it knows which process's socket will receive it, so no cgroup or user can be matched; remove 'by:' and narrow 'from:' and the ports instead", "by-on-input");
            }
            entries.Add(new AllowEntry(name, peers, tcp, udp, Location(map)) { Window = window, ResolveLazily = lazy, By = by });
        }
        return entries;
    }

    /// <summary><c>by:</c>: one mapping or a non-empty list of them, each naming exactly one unit, cgroup, user or uid.</summary>
    private List<ServiceScope> ReadBy(YamlNode node, string path)
    {
        var scopes = new List<ServiceScope>();
        var items = node is YamlSequenceNode list ? list.Children.ToList() : [node];
        if (items.Count == 0)
            Error(node, $"{path} is empty: the entry would allow nobody",
                "name who may use the entry, e.g. 'by: { unit: chrony.service }', or remove 'by:' to allow every process", "empty-by");
        int index = 0;
        foreach (var item in items)
        {
            index++;
            string where = items.Count == 1 && node is not YamlSequenceNode ? path : $"{path}[{index}]";
            if (item is not YamlMappingNode map)
            {
                Error(item, $"{where} must be a mapping such as '{{ unit: chrony.service }}'", "write one of unit:, cgroup:, user: or uid: with a value", "not-a-mapping");
                continue;
            }
            var keys = Keys(map, ByKeys, where);
            var named = keys.Where(k => k.Key != "when_absent").ToList();
            if (named.Count != 1)
            {
                Error(map, named.Count == 0 ? $"{where} names nobody" : $"{where} names {string.Join(" and ", named.Select(k => k.Key))} in one item",
                    "write exactly one of unit:, cgroup:, user: or uid: per item; list several items to allow several services", "bad-by");
                continue;
            }
            var (key, valueNode) = named[0];
            var kind = key switch { "unit" => ServiceScopeKind.Unit, "cgroup" => ServiceScopeKind.Cgroup, "user" => ServiceScopeKind.User, _ => ServiceScopeKind.Uid };
            if (Scalar(valueNode, $"{where}.{key}") is not { } raw)
                continue;
            var expanded = _rules.Expand([(raw, Location(valueNode))]);
            if (expanded.Count != 1)
            {
                if (raw.StartsWith('$') && expanded.Count > 1)
                    Error(valueNode, $"{where}.{key} is {raw}, which holds {expanded.Count} values", "list one item per value instead", "not-a-scalar");
                continue;
            }
            var (value, location) = expanded[0];
            if (ScopeSyntax.Check(kind, value) is { } problem)
            {
                _rules.Error(location, $"{where}.{key}: {problem.Message}", problem.Fix, "bad-by");
                continue;
            }
            bool deny = false;
            if (keys.TryGetValue("when_absent", out var absentNode) && Scalar(absentNode, $"{where}.when_absent") is { } absent)
            {
                if (absent != "deny")
                    Error(absentNode, $"{where}.when_absent is '{(PolicyRules.LooksLikeKey(absent) ? absent : "(not shown)")}'",
                        "the only value is 'deny' (allow nothing until it exists); an absent service never opens the entry to everyone", "bad-by");
                else if (kind is ServiceScopeKind.User or ServiceScopeKind.Uid)
                    Error(absentNode, $"{where}.when_absent is for units and cgroups", "a user either exists or is an error; remove 'when_absent'", "bad-by");
                else
                    deny = true;
            }
            scopes.Add(new ServiceScope(kind, value, Location(map)) { WhenAbsentDeny = deny });
        }
        return scopes;
    }

    /// <summary>A required, non-empty list of destinations (empty is reported unless a shape error already explains it).</summary>
    private List<Destination> Destinations(YamlNode node, string path)
    {
        int before = _rules.Diagnostics.Count;
        var items = Items(node, path);
        return _rules.Destinations(items, path, Location(node), required: _rules.Diagnostics.Count == before);
    }

    /// <summary>A scalar or a flat list of scalars, as (text, location) items.</summary>
    private List<(string Text, SourceLocation Location)> Items(YamlNode node, string path)
    {
        var items = new List<(string, SourceLocation)>(node is YamlSequenceNode { Children.Count: var count } ? count : 1);
        switch (node)
        {
            case YamlScalarNode scalar:
                if (scalar.Value is { Length: > 0 } v && !IsNull(scalar))
                    items.Add((v, Location(scalar)));
                break;
            case YamlSequenceNode sequence:
                foreach (var child in sequence.Children)
                {
                    if (child is YamlScalarNode s && s.Value is { Length: > 0 } value && !IsNull(s))
                        items.Add((value, Location(s)));
                    else if (child is YamlScalarNode)
                        Error(child, $"{path} has an empty value", "remove it, or write a value", "empty-value");
                    else
                        Error(child, $"{path} must be a flat list of values", "write values like [203.0.113.50, $collector]; a variable holding a list is expanded in place", "not-a-scalar");
                }
                break;
            default:
                Error(node, $"{path} must be a value or a list of values", "write a value or a list like [a, b]", "not-a-scalar");
                break;
        }
        return items;
    }

    private static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is "" or "~" or "null" or "Null" or "NULL";

    private string? Scalar(YamlNode node, string what)
    {
        if (node is YamlScalarNode { Value: { } value } scalar && !IsNull(scalar))
            return value;
        Error(node, $"{what} must be a single value", node is YamlScalarNode ? "write a value after the ':'" : "write a plain value, not a list or mapping", "not-a-scalar");
        return null;
    }

    private YamlMappingNode? Mapping(YamlNode node, string what)
    {
        if (node is YamlMappingNode map)
            return map;
        Error(node, $"{what} must be a mapping (key: value lines)", "indent its keys under it", "not-a-mapping");
        return null;
    }

    private static string Advertised(string[] allowed, IReadOnlyDictionary<string, string>? elsewhere) =>
        string.Join(", ", elsewhere is null ? allowed : allowed.Where(k => !elsewhere.ContainsKey(k)));

    private Dictionary<string, YamlNode> Keys(YamlMappingNode map, string[] allowed, string where, IReadOnlyDictionary<string, string>? elsewhere = null)
    {
        var keys = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in map.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                Error(keyNode, $"keys of {where} must be plain words", "use one of: " + string.Join(", ", allowed), "bad-key");
                continue;
            }
            if (key == "<<")
            {
                // YAML 1.1's merge key: YamlDotNet's node model (YAML 1.2) reads it as a plain key, whose merged keys would be lost.
                Error(keyNode, $"'<<' (a YAML 1.1 merge key) is not read in {where}: the keys it would merge in would be lost",
                    "write the keys out here, or share values through 'define:' variables ($name)", "merge-key");
                continue;
            }
            if (!allowed.Contains(key) && elsewhere is not null && elsewhere.TryGetValue(key, out string? why))
            {
                Error(keyNode, $"{where} cannot have '{key}:': {why}", "allowed here: " + Advertised(allowed, elsewhere), "unknown-key");
                continue;
            }
            if (!allowed.Contains(key))
            {
                string? suggestion = PolicyRules.Closest(key, allowed);
                // Only key-like text is quoted back: an unknown key may be a line of some other file.
                Error(keyNode, PolicyRules.LooksLikeKey(key) ? $"unknown key '{key}' in {where}" : $"unknown key in {where} (not shown: it is not a word)",
                    (suggestion is null ? "" : $"did you mean '{suggestion}'? ") + "allowed here: " + Advertised(allowed, elsewhere), "unknown-key");
                continue;
            }
            if (!keys.TryAdd(key, value))
                Error(keyNode, $"'{key}' appears twice in {where}", "keep one", "duplicate-key");
        }
        return keys;
    }

    private SourceLocation Location(YamlNode node) => new(fileName, (int)node.Start.Line, (int)node.Start.Column);

    private void Error(YamlNode node, string message, string fix, string code) => _rules.Error(Location(node), message, fix, code);
}
