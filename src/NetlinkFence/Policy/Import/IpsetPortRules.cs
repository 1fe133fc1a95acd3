using System.Globalization;
using System.Net;

namespace NetlinkFence.Policy.Import;

/// <summary>
/// A rule that matches a hash:ip,port or hash:net,port set allows each member's address on that member's protocol
/// and port, which no single allow entry can say (an entry allows every port it lists to every address it lists). So
/// the addresses that have exactly the same TCP and UDP ports are grouped, and each group becomes the original rule
/// once per protocol, with those addresses and that protocol's ports. Together they match exactly the packets the
/// set did. The rest of the import treats them as rules of the same line.
/// </summary>
internal static class IpsetPortRules
{
    private static readonly string[] PortProtocols = ["tcp", "udp"];

    /// <summary>The rules <paramref name="rule"/> stands for: itself when it matches no such set or cannot be imported.</summary>
    public static IEnumerable<IptablesRule> Split(IptablesRule rule)
    {
        if (rule.SetPorts is not { } match || rule.Unsupported.Count > 0)
            return [rule];
        string name = IptablesSaveParser.Printable(match.Set.Name);
        if ((match.PortIsSource ? rule.SourcePorts : rule.DestinationPorts) is not null)
            return Refused(rule, match, $"ipset '{name}' and {(match.PortIsSource ? "--sport" : "--dport")} both match the port: a packet must pass both, which one entry cannot say");
        var members = rule.Protocol is { } only ? match.Set.PortMembers.Where(m => m.Protocol == only).ToList() : match.Set.PortMembers;
        if (members.Count == 0)
            return Refused(rule, match, $"no member of ipset '{name}' is {rule.Protocol}: the rule matches nothing");
        int other = members.FindIndex(m => !PortProtocols.Contains(m.Protocol));
        if (other >= 0)
            return Refused(rule, match, $"member {IptablesSaveParser.Printable(members[other].ToString())} of ipset '{name}' is {IptablesSaveParser.Printable(members[other].Protocol)}: "
                + "an allow entry has TCP and UDP ports only" + (rule.Protocol is null ? " (add '-p tcp' or '-p udp' to the rule if the other members are what it is for)" : ""));
        var rules = new List<IptablesRule>();
        foreach (var group in GroupByPorts(members))
        {
            for (int p = 0; p < PortProtocols.Length; p++)
            {
                if (group.Ports[p].Count > 0)
                    rules.Add(Part(rule, match, PortProtocols[p], group.Networks, group.Ports[p]));
            }
        }
        return rules;
    }

    /// <summary>The original rule with one protocol, a group's addresses and its ports of that protocol.</summary>
    private static IptablesRule Part(IptablesRule rule, IptablesSetPorts match, string protocol, List<IPNetwork> networks, List<(int First, int Last)> ports)
    {
        var part = rule.Copy();
        part.Protocol = protocol;
        List<AddressItem> addresses = [.. networks.Select(n => new AddressItem(IptablesValues.Format(n), [n]))];
        if (match.AddressIsSource)
            part.Sources = addresses;
        else
            part.Destinations = addresses;
        List<PortItem> portItems = [.. ports.Select(r => new PortItem(PortText(r), [r]))];
        if (match.PortIsSource)
            part.SourcePorts = portItems;
        else
            part.DestinationPorts = portItems;
        return part;
    }

    /// <summary>
    /// Each address's TCP and UDP ports merged into ranges, then the addresses with the same ports of both together,
    /// in file order: a group's TCP and UDP rules come one after the other, so they become one entry (and a
    /// resolver's TCP and UDP 53 become <c>egress.dns.resolvers</c>).
    /// </summary>
    private static List<(List<IPNetwork> Networks, List<(int First, int Last)>[] Ports)> GroupByPorts(List<IpsetPortMember> members)
    {
        var portsOf = new Dictionary<IPNetwork, List<(int First, int Last)>[]>();
        foreach (var member in members)
        {
            if (!portsOf.TryGetValue(member.Network, out var ranges))
                portsOf[member.Network] = ranges = [[], []];
            ranges[Array.IndexOf(PortProtocols, member.Protocol)].Add((member.First, member.Last));
        }
        var groups = new List<(List<IPNetwork> Networks, List<(int First, int Last)>[] Ports)>();
        var byKey = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (network, ranges) in portsOf)
        {
            var merged = ranges.Select(InclusiveRanges.Merge).ToArray(); // ipset save lists a range's ports one by one
            string key = string.Join('/', merged.Select(m => string.Join(',', m.Select(PortText))));
            if (byKey.TryGetValue(key, out int index))
            {
                groups[index].Networks.Add(network);
            }
            else
            {
                byKey[key] = groups.Count;
                groups.Add(([network], merged));
            }
        }
        return groups;
    }

    private static string PortText((int First, int Last) range) =>
        range.First == range.Last ? range.First.ToString(CultureInfo.InvariantCulture) : $"{range.First}:{range.Last}";

    private static IptablesRule[] Refused(IptablesRule rule, IptablesSetPorts match, string reason)
    {
        rule.Unsupported.Add((match.Column, reason));
        return [rule];
    }
}
