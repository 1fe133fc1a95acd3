using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace NetlinkFence.Policy;

/// <summary>Walks a parsed YAML document into an <see cref="EgressPolicy"/>, collecting every error with its location.</summary>
internal sealed partial class PolicyReader(string fileName)
{
    private static readonly string[] RootKeys = ["version", "table", "define", "hosts", "log", "input", "egress"];
    private static readonly string[] LogKeys = ["prefix", "rate", "group"];
    private static readonly string[] InputKeys = ["allow"];
    private static readonly string[] InputAllowKeys = ["name", "from", "tcp", "udp"];
    private static readonly string[] EgressKeys = ["dns", "allow"];
    private static readonly string[] DnsKeys = ["resolvers"];
    private static readonly string[] EgressAllowKeys = ["name", "to", "tcp", "udp", "window"];

    private readonly List<PolicyDiagnostic> _diagnostics = [];
    private readonly Dictionary<string, List<(string Text, SourceLocation Location)>> _variables = new(StringComparer.Ordinal);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    private static partial Regex VariableName();

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,31}$")]
    private static partial Regex EntryName();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex TableName();

    public EgressPolicy Read(YamlNode root)
    {
        if (root is not YamlMappingNode map)
        {
            Error(root, "the policy must be a mapping with keys such as version, define, egress", "start from examples/ironclaw-agent.yaml", "not-a-mapping");
            throw new PolicyException(_diagnostics);
        }
        var keys = Keys(map, RootKeys, "policy");

        if (!keys.TryGetValue("version", out var version))
            Error(map, "missing 'version'", "add 'version: 1' at the top", "missing-version");
        else if (Scalar(version, "version") is { } v && v != "1")
            Error(version, $"unsupported policy version '{v}'", "this netlinkfence reads 'version: 1'", "bad-version");

        string table = "netlinkfence";
        if (keys.TryGetValue("table", out var tableNode) && Scalar(tableNode, "table") is { } t)
        {
            if (TableName().IsMatch(t))
                table = t;
            else
                Error(tableNode, $"table name '{t}' is not allowed", "use 1-64 letters, digits, '_' or '-'", "bad-table-name");
        }

        if (keys.TryGetValue("define", out var define))
            ReadDefines(define);
        var hosts = keys.TryGetValue("hosts", out var hostsNode) ? ReadHosts(hostsNode) : new Dictionary<string, IReadOnlyList<IPAddress>>();
        var log = keys.TryGetValue("log", out var logNode) ? ReadLog(logNode) : new LogSettings(null);

        var input = new List<AllowEntry>();
        if (keys.TryGetValue("input", out var inputNode) && Mapping(inputNode, "input") is { } inputMap)
        {
            var inputKeys = Keys(inputMap, InputKeys, "input");
            if (inputKeys.TryGetValue("allow", out var allow))
                input = ReadAllowList(allow, "input.allow", InputAllowKeys, "from", required: false);
        }

        var resolvers = new List<Destination>();
        var egress = new List<AllowEntry>();
        if (keys.TryGetValue("egress", out var egressNode) && Mapping(egressNode, "egress") is { } egressMap)
        {
            var egressKeys = Keys(egressMap, EgressKeys, "egress");
            if (egressKeys.TryGetValue("dns", out var dns) && Mapping(dns, "egress.dns") is { } dnsMap)
            {
                var dnsKeys = Keys(dnsMap, DnsKeys, "egress.dns");
                if (!dnsKeys.TryGetValue("resolvers", out var resolverNode))
                    Error(dns, "egress.dns has no 'resolvers'", "name your resolvers (DNS to any address is never allowed), or remove 'dns:' to deny DNS", "dns-without-resolvers");
                else
                    resolvers = ReadDestinations(resolverNode, "egress.dns.resolvers", required: true);
            }
            if (egressKeys.TryGetValue("allow", out var allow))
                egress = ReadAllowList(allow, "egress.allow", EgressAllowKeys, "to", required: true);
        }
        CheckUniqueNames(egress, "egress.allow");
        CheckUniqueNames(input, "input.allow");

        if (_diagnostics.Any(d => d.Severity == Severity.Error))
            throw new PolicyException(_diagnostics);
        return new EgressPolicy(table, log, hosts, resolvers, egress, input, fileName);
    }

    private void ReadDefines(YamlNode node)
    {
        if (Mapping(node, "define") is not { } map)
            return;
        foreach (var (keyNode, value) in map.Children)
        {
            if (Scalar(keyNode, "variable name") is not { } name)
                continue;
            if (!VariableName().IsMatch(name))
            {
                Error(keyNode, $"variable name '{name}' is not allowed", "use letters, digits and '_', starting with a letter", "bad-variable-name");
                continue;
            }
            var values = new List<(string, SourceLocation)>();
            foreach (var item in ScalarOrList(value, $"define.{name}"))
            {
                if (item.Text.StartsWith('$'))
                    Error(item.Node, $"variable '{name}' refers to '{item.Text}'", "variables hold literal values; write the values out", "nested-variable");
                else
                    values.Add((item.Text, Location(item.Node)));
            }
            _variables[name] = values;
        }
    }

    private Dictionary<string, IReadOnlyList<IPAddress>> ReadHosts(YamlNode node)
    {
        var hosts = new Dictionary<string, IReadOnlyList<IPAddress>>(StringComparer.OrdinalIgnoreCase);
        if (Mapping(node, "hosts") is not { } map)
            return hosts;
        foreach (var (keyNode, value) in map.Children)
        {
            if (Scalar(keyNode, "host name") is not { } name)
                continue;
            var parsed = AddressParser.Parse(name, Location(keyNode), out _, out _);
            if (parsed?.HostName is null)
            {
                Error(keyNode, $"'{name}' is not a host name", "pin names such as api.example.com to addresses", "bad-host-name");
                continue;
            }
            var addresses = new List<IPAddress>();
            foreach (var (text, location) in Expand(value, $"hosts.{name}"))
            {
                if (AddressParser.ParseAddress(text) is { } address)
                    addresses.Add(address);
                else
                    Error(location, $"'{text}' is not an IP address (hosts: pins name single addresses)", "write an IPv4 or IPv6 address", "bad-pin");
            }
            if (addresses.Count == 0)
                Error(value, $"host '{name}' is pinned to no address", "give at least one address", "empty-pin");
            hosts[parsed.HostName] = addresses;
        }
        return hosts;
    }

    private LogSettings ReadLog(YamlNode node)
    {
        if (Mapping(node, "log") is not { } map)
            return new LogSettings(null);
        var keys = Keys(map, LogKeys, "log");
        string? prefix = null;
        if (keys.TryGetValue("prefix", out var prefixNode) && Scalar(prefixNode, "log.prefix") is { } p)
        {
            int bytes = Encoding.UTF8.GetByteCount(p);
            if (bytes == 0 || bytes > 127)
                Error(prefixNode, $"log prefix is {bytes} bytes; the kernel accepts 1 to 127", "shorten the prefix", "bad-log-prefix");
            else if (p.Any(c => c < 0x20 || c > 0x7e || c == '"'))
                Error(prefixNode, "log prefix has characters that would garble log lines (control characters, non-ASCII or '\"')", "use printable ASCII without quotes", "bad-log-prefix");
            else
                prefix = p;
        }
        ulong? rate = null;
        ulong unit = 1;
        if (keys.TryGetValue("rate", out var rateNode) && Scalar(rateNode, "log.rate") is { } r)
        {
            var parts = r.Split('/', 2);
            ulong? seconds = parts.Length == 2 ? parts[1] switch { "second" => 1, "minute" => 60, "hour" => 3600, "day" => 86400, _ => null } : null;
            if (parts.Length != 2 || seconds is null || !ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) || n == 0 || n > 1_000_000)
                Error(rateNode, $"log rate '{r}' is not understood", "write N/second, N/minute, N/hour or N/day with N from 1 to 1000000", "bad-log-rate");
            else
            {
                rate = n;
                unit = seconds.Value;
            }
        }
        ushort? group = null;
        if (keys.TryGetValue("group", out var groupNode) && Scalar(groupNode, "log.group") is { } g)
        {
            if (ushort.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out ushort value))
                group = value;
            else
                Error(groupNode, $"log group '{g}' is not a number from 0 to 65535", "use an NFLOG group number", "bad-log-group");
        }
        return new LogSettings(prefix, rate, unit, group);
    }

    private List<AllowEntry> ReadAllowList(YamlNode node, string path, string[] allowedKeys, string peerKey, bool required)
    {
        var entries = new List<AllowEntry>();
        if (node is not YamlSequenceNode list)
        {
            Error(node, $"{path} must be a list of entries", $"write each entry as '- {{ name: ..., {peerKey}: [...], tcp: [...] }}'", "not-a-list");
            return entries;
        }
        int index = 0;
        foreach (var item in list.Children)
        {
            index++;
            if (Mapping(item, $"{path}[{index}]") is not { } map)
                continue;
            var keys = Keys(map, allowedKeys, $"{path}[{index}]");
            string name = $"{(peerKey == "to" ? "allow" : "input")}-{index}";
            if (keys.TryGetValue("name", out var nameNode) && Scalar(nameNode, "name") is { } n)
            {
                if (EntryName().IsMatch(n))
                    name = n;
                else
                    Error(nameNode, $"entry name '{n}' is not allowed", "use 1-32 lower-case letters, digits, '_' or '-', starting with a letter or digit", "bad-entry-name");
            }
            else if (peerKey == "to")
            {
                Error(map, $"{path}[{index}] has no 'name'", "name every egress entry: the name is the rule's comment in the ruleset and in logs", "missing-name");
            }
            if (keys.TryGetValue("window", out var window))
                Error(window, "'window:' (time-bounded allows) is not implemented yet; the entry would be open permanently", "remove the entry, or remove 'window:' to allow it permanently", "window-unsupported");

            List<Destination> peers = [];
            if (keys.TryGetValue(peerKey, out var peerNode))
                peers = ReadDestinations(peerNode, $"{path}[{index}].{peerKey}", required);
            else if (required)
                Error(map, $"{path}[{index}] ('{name}') has no '{peerKey}'", $"list the destinations in '{peerKey}:'", "missing-destinations");

            var tcp = keys.TryGetValue("tcp", out var tcpNode) ? ReadPorts(tcpNode, $"{path}[{index}].tcp") : [];
            var udp = keys.TryGetValue("udp", out var udpNode) ? ReadPorts(udpNode, $"{path}[{index}].udp") : [];
            if (tcp.Count == 0 && udp.Count == 0)
                Error(map, $"{path}[{index}] ('{name}') names no ports", "add 'tcp: [443]' or 'udp: [...]': an entry without ports would allow nothing or everything", "no-ports");
            entries.Add(new AllowEntry(name, peers, tcp, udp, Location(map)));
        }
        return entries;
    }

    private List<Destination> ReadDestinations(YamlNode node, string path, bool required)
    {
        var destinations = new List<Destination>();
        var expanded = Expand(node, path);
        foreach (var (text, location) in expanded)
        {
            if (AddressParser.Parse(text, location, out string? error, out string? fix) is { } destination)
                destinations.Add(destination);
            else
                Error(location, error!, fix!, "bad-address");
        }
        if (required && expanded.Count == 0 && !_diagnostics.Any(d => d.Location == Location(node)))
            Error(node, $"{path} is empty", "name at least one address or host: an empty list would allow nothing and hide the mistake", "empty-destinations");
        return destinations;
    }

    private List<PortRange> ReadPorts(YamlNode node, string path)
    {
        var ports = new List<PortRange>();
        foreach (var (text, location) in Expand(node, path))
        {
            var parts = text.Split('-', 2);
            if (ushort.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out ushort first) && first > 0
                && (parts.Length == 1 || (ushort.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ushort last0) && last0 >= first)))
            {
                ushort last = parts.Length == 1 ? first : ushort.Parse(parts[1], CultureInfo.InvariantCulture);
                ports.Add(new PortRange(first, last));
            }
            else
            {
                Error(location, $"'{text}' is not a port or port range", "write a port from 1 to 65535 (443) or a range (1000-2000)", "bad-port");
            }
        }
        return ports;
    }

    private void CheckUniqueNames(List<AllowEntry> entries, string path)
    {
        foreach (var group in entries.GroupBy(e => e.Name).Where(g => g.Count() > 1))
            foreach (var duplicate in group.Skip(1))
                Error(duplicate.Location, $"{path} entry name '{group.Key}' is used more than once", "give every entry its own name", "duplicate-name");
    }

    /// <summary>Expands a scalar or flat list of scalars, replacing <c>$name</c> by the variable's values.</summary>
    private List<(string Text, SourceLocation Location)> Expand(YamlNode node, string path)
    {
        var result = new List<(string, SourceLocation)>();
        foreach (var item in ScalarOrList(node, path))
        {
            if (!item.Text.StartsWith('$'))
            {
                result.Add((item.Text, Location(item.Node)));
                continue;
            }
            string name = item.Text[1..];
            if (_variables.TryGetValue(name, out var values))
            {
                if (values.Count == 0)
                    Error(item.Node, $"variable '${name}' is an empty list", "define at least one value, or remove the reference", "empty-variable");
                // Values keep the location of the reference: that is where the reader looks.
                result.AddRange(values.Select(v => (v.Text, Location(item.Node))));
            }
            else
            {
                string? suggestion = Closest(name, _variables.Keys);
                Error(item.Node, $"undefined variable '${name}'", suggestion is null ? "define it under 'define:'" : $"did you mean '${suggestion}'? Otherwise define it under 'define:'", "undefined-variable");
            }
        }
        return result;
    }

    private List<(string Text, YamlNode Node)> ScalarOrList(YamlNode node, string path)
    {
        var items = new List<(string, YamlNode)>();
        switch (node)
        {
            case YamlScalarNode scalar:
                if (scalar.Value is { Length: > 0 } v && !IsNull(scalar))
                    items.Add((v, scalar));
                break;
            case YamlSequenceNode sequence:
                foreach (var child in sequence.Children)
                {
                    if (child is YamlScalarNode s && s.Value is { Length: > 0 } value && !IsNull(s))
                        items.Add((value, s));
                    else
                        Error(child, $"{path} must be a flat list of values", "write values like [203.0.113.50, $collector]", "not-a-scalar");
                }
                break;
            default:
                Error(node, $"{path} must be a value or a list of values", "write a value or a list like [a, b]", "not-a-scalar");
                break;
        }
        return items;
    }

    private static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is "~" or "null" or "Null" or "NULL";

    private string? Scalar(YamlNode node, string what)
    {
        if (node is YamlScalarNode { Value: { } value } scalar && !IsNull(scalar))
            return value;
        Error(node, $"{what} must be a single value", "write a plain value", "not-a-scalar");
        return null;
    }

    private YamlMappingNode? Mapping(YamlNode node, string what)
    {
        if (node is YamlMappingNode map)
            return map;
        Error(node, $"{what} must be a mapping (key: value lines)", "indent its keys under it", "not-a-mapping");
        return null;
    }

    private Dictionary<string, YamlNode> Keys(YamlMappingNode map, string[] allowed, string where)
    {
        var keys = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in map.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                Error(keyNode, $"keys of {where} must be plain words", "use one of: " + string.Join(", ", allowed), "bad-key");
                continue;
            }
            if (!allowed.Contains(key))
            {
                string? suggestion = Closest(key, allowed);
                Error(keyNode, $"unknown key '{key}' in {where}",
                    (suggestion is null ? "" : $"did you mean '{suggestion}'? ") + "allowed here: " + string.Join(", ", allowed), "unknown-key");
                continue;
            }
            if (!keys.TryAdd(key, value))
                Error(keyNode, $"'{key}' appears twice in {where}", "keep one", "duplicate-key");
        }
        return keys;
    }

    private static string? Closest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            int distance = Levenshtein(word.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = candidate;
            }
        }
        return bestDistance <= Math.Max(1, word.Length / 3) ? best : null;
    }

    private static int Levenshtein(string a, string b)
    {
        if (a.Length > 64 || b.Length > 64)
            return int.MaxValue;
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    private SourceLocation Location(YamlNode node) => new(fileName, (int)node.Start.Line, (int)node.Start.Column);

    public void Error(YamlNode node, string message, string fix, string code) => Error(Location(node), message, fix, code);

    private void Error(SourceLocation location, string message, string fix, string code) =>
        _diagnostics.Add(new PolicyDiagnostic(Severity.Error, location, message, fix, code));
}
