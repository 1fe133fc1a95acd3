using System.Globalization;
using System.Net;
using System.Text;

namespace NetlinkFence.Policy.Import;

/// <summary>
/// One set of an <c>ipset save</c> file: its members as networks, or why a policy cannot take them as an address list.
/// </summary>
internal sealed class IpsetSet(string name, string type, bool ipv6, IptablesLine declaration)
{
    public string Name { get; } = name;
    public string Type { get; } = type;
    public bool IPv6 { get; } = ipv6;
    public IptablesLine Declaration { get; } = declaration;
    public List<IPNetwork> Members { get; } = [];

    /// <summary>The members of an address-and-port set (<see cref="HasPorts"/>), in the order the file lists them.</summary>
    public List<IpsetPortMember> PortMembers { get; } = [];

    /// <summary>hash:ip,port or hash:net,port (or a list:set's view of such sets): each member is an address (network), a protocol and a port.</summary>
    public bool HasPorts { get; init; } = type is "hash:ip,port" or "hash:net,port";

    /// <summary>list:set: its members are sets, and a packet matches when it matches one of them.</summary>
    public bool IsList => Type == "list:set";

    /// <summary>The sets a list:set holds, in the order the file adds them.</summary>
    public List<IpsetSet> Listed { get; } = [];

    /// <summary>A list:set's view for one family (<see cref="IpsetLists"/>): the names of the sets it stands for; null for any other set.</summary>
    public string? ListedSets { get; init; }

    /// <summary>A list:set's views for IPv4 and IPv6, the sets a rule of that family matches (<see cref="IpsetLists"/>).</summary>
    public (IpsetSet IPv4, IpsetSet IPv6)? Views { get; set; }

    /// <summary>How many distinct members the set holds, of either kind.</summary>
    public int Count => HasPorts ? PortMembers.Count : Members.Count;

    /// <summary>The members already listed: a large set's add lines are checked for repeats in constant time.</summary>
    public HashSet<IPNetwork> Held { get; } = [];

    /// <summary>The port members already listed, for the same reason.</summary>
    public HashSet<IpsetPortMember> HeldPorts { get; } = [];

    /// <summary><c>create ... netmask N</c>: each member stands for its /N network (hash:ip, bitmap:ip).</summary>
    public int? Netmask { get; set; }

    /// <summary>Why a rule that matches this set cannot be imported (dynamic members, exceptions, another type); null when it can.</summary>
    public string? Unsupported { get; set; }

    /// <summary>The <c>define:</c> variable the policy names the members by (letters, digits and '_').</summary>
    public string Variable { get; set; } = VariableOf(name);

    private static string VariableOf(string name)
    {
        var builder = new StringBuilder(name.Length + 1);
        if (!char.IsAsciiLetter(name[0]) && name[0] != '_')
            builder.Append('_');
        foreach (char c in name)
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        return builder.ToString();
    }
}

/// <summary>
/// A member of a hash:ip,port or hash:net,port set: a network, a protocol (lower case, as ipset save writes it) and a
/// port range (0-0 for a protocol without ports, whose "port" is an ICMP type or nothing).
/// </summary>
internal readonly record struct IpsetPortMember(IPNetwork Network, string Protocol, int First, int Last)
{
    public override string ToString() =>
        $"{IptablesValues.Format(Network)},{Protocol}:{(First == Last ? First.ToString(CultureInfo.InvariantCulture) : $"{First}-{Last}")}";
}

/// <summary>
/// Reads <c>ipset save</c> output: <c>create NAME TYPE [family inet6] [netmask N] ...</c> and <c>add NAME MEMBER ...</c>
/// lines. Address sets (hash:ip, hash:net, bitmap:ip) become lists of networks, address-and-port sets (hash:ip,port,
/// hash:net,port) lists of <see cref="IpsetPortMember"/>, list:set the sets it holds; every other type, a set whose members time out, a
/// <c>nomatch</c> member and a port named by its service are kept as the reason a rule matching that set cannot be
/// imported. What
/// <c>ipset restore</c> itself would refuse (an unknown command, a member of a set not created, a bad address) is an
/// error with file:line:column.
/// </summary>
internal sealed class IpsetSaveParser(string file, PolicyRules errors)
{
    private static readonly HashSet<string> ReadableTypes = new(StringComparer.Ordinal) { "hash:ip", "hash:net", "bitmap:ip", "hash:ip,port", "hash:net,port", "list:set" };

    private readonly Dictionary<string, IpsetSet> _sets = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, IpsetSet> Parse(string text)
    {
        var tokens = new List<IptablesToken>(8);
        int lineNumber = 0;
        foreach (string rawLine in text.Split('\n'))
        {
            lineNumber++;
            string line = rawLine.TrimEnd('\r');
            if (line.Length > IptablesSaveParser.MaxLineLength || line.AsSpan().IndexOfAnyInRange('\0', '\u0008') >= 0)
            {
                Error(lineNumber, 1, "not ipset save output (a control character or a line too long)", "check that this is the file `ipset save` wrote");
                continue;
            }
            if (!IptablesTokenizer.Split(line, tokens, out int unclosedQuote))
            {
                Error(lineNumber, unclosedQuote, "a quote that is never closed", "close the quote");
                continue;
            }
            if (tokens.Count == 0 || tokens[0].Text.StartsWith('#'))
                continue;
            var source = new IptablesLine(file, lineNumber, line);
            switch (tokens[0].Text)
            {
                case "create" when tokens.Count >= 3:
                    Create(source, tokens);
                    break;
                case "add" when tokens.Count >= 3:
                    Add(source, tokens);
                    break;
                default:
                    Error(lineNumber, tokens[0].Column, $"'{IptablesSaveParser.Printable(line.Trim())}' is not a line of ipset save output",
                        "give --ipset the output of `ipset save` (create NAME TYPE ... and add NAME MEMBER lines)");
                    break;
            }
        }
        IpsetLists.MakeViews(_sets.Values);
        return _sets;
    }

    private void Create(IptablesLine source, List<IptablesToken> tokens)
    {
        string name = tokens[1].Text, type = tokens[2].Text;
        if (name.Length == 0)
        {
            Error(source.Number, tokens[1].Column, "a set with an empty name", "name the set (ipset restore refuses an empty name)");
            return;
        }
        if (_sets.ContainsKey(name))
        {
            Error(source.Number, tokens[1].Column, $"set '{IptablesSaveParser.Printable(name)}' is created twice", "keep one create line per set (ipset restore refuses the second)");
            return;
        }
        bool ipv6 = Option(tokens, "family") is { } family && family.Text == "inet6";
        var set = new IpsetSet(name, type, ipv6, source);
        _sets[name] = set;
        if (!ReadableTypes.Contains(type))
            set.Unsupported = $"its type is {IptablesSaveParser.Printable(type)}; the importer reads address sets (hash:ip, hash:net, bitmap:ip), address-and-port sets (hash:ip,port, hash:net,port) and lists of them (list:set)";
        else if (Option(tokens, "timeout") is not null)
            set.Unsupported = "its members time out (created with 'timeout'): they come and go while the host runs, so this saved copy of them is not a policy";
        if (Option(tokens, "netmask") is { } netmask)
        {
            if (!int.TryParse(netmask.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int prefix) || prefix < 1 || prefix > (ipv6 ? 128 : 32))
                Error(source.Number, netmask.Column, $"netmask '{IptablesSaveParser.Printable(netmask.Text)}' is not a prefix length of the set's family", "write a prefix length (netmask 24)");
            else
                set.Netmask = prefix;
        }
    }

    private void Add(IptablesLine source, List<IptablesToken> tokens)
    {
        if (!_sets.TryGetValue(tokens[1].Text, out var set))
        {
            Error(source.Number, tokens[1].Column, $"set '{IptablesSaveParser.Printable(tokens[1].Text)}' has no create line before this one", "ipset save writes each set's create line before its members: check the file is whole");
            return;
        }
        if (tokens.Skip(3).Any(t => t.Text == "nomatch"))
            set.Unsupported ??= $"member {IptablesSaveParser.Printable(tokens[2].Text)} is 'nomatch' (line {source.Number}), an exception from the set: a policy lists what is allowed, never 'all but'";
        if (!ReadableTypes.Contains(set.Type))
            return;
        if (set.IsList)
        {
            AddListed(source, set, tokens[2]);
            return;
        }
        if (set.HasPorts)
        {
            AddPortMember(source, set, tokens[2]);
            return;
        }
        if (Networks(source, set, tokens[2].Text, tokens[2].Column) is not { } networks)
            return;
        foreach (var item in networks)
        {
            // A set made with 'netmask N' holds each member as its /N network, and matches a packet's address masked the same way.
            var held = set.Netmask is { } prefix && prefix < item.PrefixLength
                ? IptablesValues.Network($"{item.BaseAddress}/{prefix}", set.IPv6, out _)!.Value : item;
            if (set.Held.Add(held))
                set.Members.Add(held);
        }
    }

    /// <summary>The networks an address member stands for (an address, a network or a range); null after an error.</summary>
    private List<IPNetwork>? Networks(IptablesLine source, IpsetSet set, string member, int column)
    {
        string? error;
        var networks = member.Contains('-') ? IptablesValues.AddressRange(member, set.IPv6, out error)
            : IptablesValues.Network(member, set.IPv6, out error) is { } network ? [network] : null;
        if (networks is not null && networks.Count > 0)
            return networks;
        string shown = IptablesSaveParser.Printable(member);
        Error(source.Number, column,
            networks is not null ? $"range '{shown}' is reversed"
            : IptablesValues.Network(member.Split('-')[0], !set.IPv6, out _) is not null ? $"'{shown}' is an IPv{(set.IPv6 ? 4 : 6)} address in a set of family {(set.IPv6 ? "inet6" : "inet")}"
            : member.Any(char.IsAsciiLetter) && !member.Contains(':') ? $"'{shown}' is a host name: ipset save writes addresses"
            : error!,
            $"write an address{(set.Type.StartsWith("hash:net", StringComparison.Ordinal) ? " or network" : "")} of the set's family ({(set.IPv6 ? "inet6" : "inet")})");
        return null;
    }

    /// <summary>
    /// <c>ADDRESS,PROTOCOL:PORT</c> (<c>203.0.113.9,tcp:443</c>; ipset save writes one port per member, <c>ipset
    /// restore</c> also takes <c>tcp:8000-8010</c>, and a bare port is TCP). Members of another protocol than TCP or
    /// UDP are kept: a rule that would match them is refused, one that matches another protocol takes the rest.
    /// </summary>
    private void AddPortMember(IptablesLine source, IpsetSet set, IptablesToken token)
    {
        string member = token.Text;
        int comma = member.IndexOf(',');
        if (comma < 0)
        {
            Error(source.Number, token.Column, $"'{IptablesSaveParser.Printable(member)}' has no port: each member of a {set.Type} set is ADDRESS,PROTOCOL:PORT",
                "write the member as ipset save does (192.0.2.1,tcp:443)");
            return;
        }
        if (Networks(source, set, member[..comma], token.Column) is not { } networks)
            return;
        string port = member[(comma + 1)..];
        int colon = port.IndexOf(':');
        string protocol = colon < 0 ? "tcp" : port[..colon].ToLowerInvariant();
        string number = colon < 0 ? port : port[(colon + 1)..];
        int first = 0, last = 0;
        if (protocol is "tcp" or "udp")
        {
            int dash = number.IndexOf('-');
            string firstText = dash < 0 ? number : number[..dash], lastText = dash < 0 ? number : number[(dash + 1)..];
            if (number.Length > 0 && number.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') && number.Any(char.IsAsciiLetter))
            {
                set.Unsupported ??= $"member {IptablesSaveParser.Printable(member)} (line {source.Number}) names its port; ipset save writes port numbers, so import the output of `ipset save`";
                return;
            }
            if (!int.TryParse(firstText, NumberStyles.None, CultureInfo.InvariantCulture, out first) || first > 65535
                || !int.TryParse(lastText, NumberStyles.None, CultureInfo.InvariantCulture, out last) || last > 65535 || last < first)
            {
                Error(source.Number, token.Column + comma + 1 + (colon + 1), $"'{IptablesSaveParser.Printable(number)}' is not a {protocol} port or range of ports (0 to 65535, FIRST-LAST)",
                    "write the member as ipset save does (192.0.2.1,tcp:443)");
                return;
            }
        }
        foreach (var network in networks)
        {
            var item = new IpsetPortMember(network, protocol, first, last);
            if (set.HeldPorts.Add(item))
                set.PortMembers.Add(item);
        }
    }

    /// <summary>
    /// <c>add LIST SET [before|after OTHER]</c>: the set must be created already and not be a list itself, and is
    /// listed once (<c>ipset restore</c> refuses each of these). Where it goes in the list does not change what the
    /// list matches, so <c>before</c> and <c>after</c> are not read.
    /// </summary>
    private void AddListed(IptablesLine source, IpsetSet list, IptablesToken token)
    {
        string name = IptablesSaveParser.Printable(token.Text);
        string? error = !_sets.TryGetValue(token.Text, out var listed) ? $"set '{name}' has no create line before this one"
            : listed.IsList ? $"set '{name}' is a list:set, which a list:set cannot hold"
            : list.Listed.Contains(listed) ? $"set '{name}' is already in list '{IptablesSaveParser.Printable(list.Name)}'"
            : null;
        if (error is not null)
        {
            Error(source.Number, token.Column, error, "ipset restore refuses it: check the file is the whole output of `ipset save`");
            return;
        }
        list.Listed.Add(listed!);
    }

    /// <summary>The value after <paramref name="key"/> among a create line's options.</summary>
    private static IptablesToken? Option(List<IptablesToken> tokens, string key)
    {
        for (int i = 3; i + 1 < tokens.Count; i++)
        {
            if (tokens[i].Text == key)
                return tokens[i + 1];
        }
        return null;
    }

    private void Error(int line, int column, string message, string fix) =>
        errors.Error(new SourceLocation(file, line, column), message, fix, "ipset-bad-line");
}
