using System.Net;

namespace NetlinkFence.Policy.Import;

/// <summary>
/// ICMPv6 multicast listener discovery (MLD, RFC 2710 and RFC 3810), which the policy builds in beside neighbour
/// discovery when it has IPv6 peers: accepts of it that the built-in covers are accounted as built in, the rest
/// refused; and a ruleset that never let the host report its groups is told that the policy does.
/// </summary>
internal sealed partial class IptablesTranslator
{
    internal const string BuiltInListenerDiscovery = "the policy's built-in multicast listener discovery (present when it has IPv6 peers) sends the "
        + "kernel's reports and dones (types 143, 131, 132) with hop limit 1 to multicast addresses only, and accepts a router's queries (130) and a "
        + "neighbour's MLDv1 reports (131) with hop limit 1 from link-local addresses only";

    private static readonly IPNetwork LinkLocal = IPNetwork.Parse("fe80::/10");

    /// <summary>The MLD accepts of each direction, with the first such line (ip6tables has no names for these types).</summary>
    private readonly Dictionary<(Direction, int), IptablesLine> _listenerDiscovery = [];
    private bool _listenerDiscoveryNoted;

    private static int? ListenerDiscoveryType(string? type) => type switch
    {
        "130" or "131" or "132" or "143" => int.Parse(type, System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };

    /// <summary>
    /// A ruleset whose OUTPUT sends no MLDv2 reports kept a switch that snoops MLD from learning the host's
    /// solicited-node groups; the policy sends them, so it allows more than the ruleset did: a warning, not an error
    /// (the reports stay on the link and carry only the groups the kernel joined).
    /// </summary>
    private void ListenerDiscoveryCoverage(IptablesTable filter)
    {
        if (_listenerDiscovery.ContainsKey((Direction.Output, 143)))
            return;
        var at = (filter.Chains.GetValueOrDefault("OUTPUT")?.Declaration ?? filter.Header).At();
        Note(Severity.Warning, at,
            "the ruleset sends no MLDv2 listener reports (ICMPv6 type 143); the policy sends the kernel's, with hop limit 1 to multicast addresses (they never leave the link), so a switch that snoops MLD keeps passing this host its neighbours' solicitations",
            "nothing to do; the ruleset's own IPv6 flows could fail behind such a switch without them", "listener-reports-sent");
    }

    private sealed partial class ChainAnalysis
    {
        /// <summary>
        /// An MLD accept the policy's built-in covers is accounted as built in; one that accepts what the built-in does
        /// not (a query sent, another hop limit, other addresses, a limit) is refused: the policy would deny it. False
        /// when the rule is not MLD.
        /// </summary>
        private bool ListenerDiscovery(FlatRule rule)
        {
            if (!ruleset.IPv6 || rule.Protocol != "ipv6-icmp" || ListenerDiscoveryType(rule.IcmpType) is not { } type || direction == Direction.Forward)
                return false;
            // As ufw writes them: inbound from a link-local source, outbound from the host's link-local address.
            bool fromLinkLocal = direction == Direction.Input && rule.Peer is [{ Networks: [var peer] }] && peer == LinkLocal;
            bool sentFromLinkLocal = direction == Direction.Output && rule.Local is [{ Networks: [var local] }] && local == LinkLocal;
            string? refused = type switch
            {
                130 when direction == Direction.Output => "sends multicast listener queries: a host is not a router, and the policy's built-in listener discovery does not send them",
                _ when rule.HopLimit is not (null or "1") => $"accepts multicast listener discovery with hop limit {rule.HopLimit}: it is sent with hop limit 1 only (RFC 2710, RFC 3810), the only one the policy's built-in accepts",
                _ when (rule.Local is not null && !sentFromLinkLocal) || (rule.Peer is not null && !fromLinkLocal) => "multicast listener discovery for some addresses only: the policy's built-in listener discovery is not per address",
                _ when rule.Limit is not null || rule.SourcePorts is not null || rule.DestinationPorts is not null => "multicast listener discovery with a rate limit or ports: the policy's built-in listener discovery has neither",
                _ when rule.UidOwner is not null => "multicast listener discovery from one user's sockets: the policy's built-in listener discovery is not per user",
                _ => null,
            };
            if (refused is not null)
            {
                NotImported(rule, refused + "; " + BuiltInListenerDiscovery);
                return true;
            }
            if (direction == Direction.Input && type is 132 or 143)
            {
                // Reports to routers: a host that is not a multicast router does not join their groups, so none arrives
                // (and what an earlier DROP takes from the accept does not matter).
                Fate(rule, LineFate.NoEffect, $"multicast listener discovery (type {type}) is sent to the routers' groups (ff02::2, ff02::16), which a host does not join: none reached this host (the policy does not accept it either)");
                return true;
            }
            if (!Shadowed(rule, LinkControlStates, loopback: false))
                return true;
            owner._listenerDiscovery.TryAdd((direction, type), rule.Line);
            string why = type switch
            {
                _ when direction == Direction.Input && (rule.HopLimit is null || !fromLinkLocal) => $"multicast listener discovery (type {type}); the policy also requires hop limit 1 and a link-local source, as RFC 2710 and RFC 3810 send it",
                // The kernel reports its groups from :: until its link-local address has passed duplicate address detection (RFC 3810 5.2.13).
                _ when sentFromLinkLocal => $"multicast listener discovery (type {type}); the policy {(rule.HopLimit is null ? "also requires hop limit 1 and a multicast destination, and " : "")}sends the reports the kernel makes from :: too, before its link-local address is ready (RFC 3810 5.2.13)",
                _ when rule.HopLimit is null => $"multicast listener discovery (type {type}); the policy also requires hop limit 1 and a multicast destination, as the kernel sends it",
                _ => $"multicast listener discovery (type {type})",
            };
            Fate(rule, LineFate.BuiltIn, why);
            if (!owner._listenerDiscoveryNoted && (owner._listenerDiscoveryNoted = true))
                owner.Note(Severity.Info, rule.Line.At(), $"multicast listener discovery accepts are built in: {BuiltInListenerDiscovery}", "", "ipv6-listener-discovery");
            return true;
        }
    }
}
