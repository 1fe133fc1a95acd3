using System.Net;
using System.Net.Sockets;
using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Policy.Import;

/// <summary>
/// A DROP (or REJECT) of some addresses before an ACCEPT that takes in some of them, where the deny matches every packet
/// of the accept to those addresses (ufw's <c>deny out to 198.51.100.7</c> before <c>allow out to 198.51.100.0/24 port
/// 443</c>): an allow-list has no exceptions, but the accept's peers without the denied addresses allow exactly what
/// the two lines allow together.
/// </summary>
internal static class AddressExceptions
{
    /// <summary>
    /// True when <paramref name="deny"/>'s only conditions besides its peer addresses are ones every packet of
    /// <paramref name="accept"/> meets (the same protocol, ports that hold all of the accept's): then, for the accept, it
    /// takes away exactly its addresses.
    /// </summary>
    public static bool IsExceptionTo(FlatRule deny, FlatRule accept) =>
        deny.Target is "DROP" or "REJECT" && deny.Peer is not null && deny.Local is null && deny.Interface is null && deny.WrongInterface is null
        && deny.SourcePorts is null && deny.States is null && deny.Limit is null && deny.IcmpType is null && deny.HopLimit is null
        && deny.UidOwner is null && deny.Unsupported.Count == 0 && deny.Never is null
        && (deny.Protocol is null || deny.Protocol == accept.Protocol)
        && (deny.DestinationPorts is null || accept.DestinationPorts is not null && accept.DestinationPorts.SelectMany(p => p.Ranges)
            .All(a => deny.DestinationPorts.SelectMany(p => p.Ranges).Any(d => d.First <= a.First && a.Last <= d.Last)));

    /// <summary>
    /// The addresses of <paramref name="peers"/> (null: every address of the family) without those of
    /// <paramref name="denies"/>, in address order: a network where what is left is one, else an address range
    /// (<c>198.51.100.8-198.51.100.255</c>, as a policy writes it).
    /// </summary>
    public static List<AddressItem> Without(IReadOnlyList<AddressItem>? peers, IEnumerable<FlatRule> denies, bool ipv6)
    {
        var family = ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        IEnumerable<(UInt128 First, UInt128 Last)> accepted = peers is null ? [(UInt128.Zero, AddressMath.Max(family))] : peers.SelectMany(p => p.Networks).Select(AddressMath.Range);
        var kept = InclusiveRanges.Without(accepted, denies.SelectMany(d => d.Peer!).SelectMany(p => p.Networks).Select(AddressMath.Range));
        return kept.Select(r => AddressMath.Networks(r.First, r.Last, family).ToList()).Select(networks => networks.Count == 1
            ? new AddressItem(IptablesValues.Format(networks[0]), networks)
            : new AddressItem($"{networks[0].BaseAddress}-{AddressMath.ToAddress(AddressMath.Range(networks[^1]).Last, family)}", networks, Range: true)).ToList();
    }
}
