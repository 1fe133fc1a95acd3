namespace NetlinkFence.Policy.Import;

/// <summary>
/// RETURNs by the kind of destination address (<c>-m addrtype --dst-type</c>) that together return every packet INPUT
/// sees. A packet the host takes in is addressed to one of its own addresses (LOCAL), to a broadcast address or to a
/// multicast group (the kernel delivers nothing else locally), so a run of such RETURNs covering the three is the end
/// of the chain for every packet, and the rules after it are never reached. ufw's <c>ufw-not-local</c> is such a chain
/// (RETURN for LOCAL, MULTICAST and BROADCAST, then a DROP of "the rest"); without this, the DROP would shadow every
/// rule after the jump, ufw's own allow rules included. IPv4 only (ip6tables' address types differ, and ufw does not
/// use them there); a host that puts addresses in VRFs is not covered (the match looks in the main local table).
/// </summary>
internal static class AddressTypeReturns
{
    public const string Reason = "-m addrtype --dst-type matches the kind of destination address (LOCAL, BROADCAST, ...), which a policy does not";

    private static readonly string[] EveryInputType = ["LOCAL", "BROADCAST", "MULTICAST"];

    /// <summary>
    /// The first run of consecutive address-type RETURNs in <paramref name="rules"/> (indexes, both included) that returns
    /// every packet INPUT sees; null when there is none.
    /// </summary>
    public static (int First, int Last)? Find(IReadOnlyList<IptablesRule> rules)
    {
        var covered = new HashSet<string>(StringComparer.Ordinal);
        int first = -1;
        for (int i = 0; i < rules.Count; i++)
        {
            if (!IsTypeReturn(rules[i]))
            {
                covered.Clear();
                first = -1;
                continue;
            }
            if (first < 0)
                first = i;
            covered.UnionWith(rules[i].DestinationTypes!);
            if (EveryInputType.All(covered.Contains))
                return (first, i);
        }
        return null;
    }

    /// <summary>What the run's lines do, for their fate.</summary>
    public static string Returned(IReadOnlyList<IptablesRule> rules, (int First, int Last) run) =>
        $"with {Lines(rules, run)}, returns every packet INPUT sees (each is addressed to the host, to a broadcast address or to a multicast group): the chain ends there";

    /// <summary>Why the rules after the run never see a packet.</summary>
    public static string NeverReached(IReadOnlyList<IptablesRule> rules, (int First, int Last) run) =>
        $"never reached: {Lines(rules, run)} before it return every packet INPUT sees (each is addressed to the host, to a broadcast address or to a multicast group)";

    private static string Lines(IReadOnlyList<IptablesRule> rules, (int First, int Last) run) =>
        $"lines {string.Join(", ", rules.Skip(run.First).Take(run.Last - run.First + 1).Select(r => r.Line.Number))}";

    /// <summary>A RETURN whose one condition is a (not negated) <c>--dst-type</c>.</summary>
    private static bool IsTypeReturn(IptablesRule rule) =>
        rule.Target == "RETURN" && rule.DestinationTypes is not null && rule.Unsupported.Count == 1 && rule.Unsupported[0].Reason == Reason
        && rule.Protocol is null && rule.Sources is null && rule.Destinations is null && rule.InInterface is null && rule.OutInterface is null
        && rule.DestinationPorts is null && rule.SourcePorts is null && rule.States is null && rule.Limit is null && rule.IcmpType is null
        && rule.HopLimit is null && rule.UidOwner is null && rule.SetPorts is null;
}
