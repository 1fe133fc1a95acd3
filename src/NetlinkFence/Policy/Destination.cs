using System.Net;

namespace NetlinkFence.Policy;

/// <summary>
/// One entry of a <c>to:</c>, <c>from:</c> or <c>resolvers:</c> list after variables are expanded: an address
/// or CIDR, or a host name (pinned in <c>hosts:</c>, else resolved by DNS when the policy is applied). An address range
/// (<c>FIRST-LAST</c>) is read as the fewest CIDRs that hold exactly its addresses, one destination each.
/// </summary>
public sealed record Destination
{
    private Destination(string text, IPNetwork? network, string? hostName, SourceLocation location)
    {
        Text = text;
        Network = network;
        HostName = hostName;
        Location = location;
    }

    /// <summary>
    /// Whether this destination holds <paramref name="address"/> as far as is known without DNS: a network containing
    /// it, or a host name pinned to it in <paramref name="pins"/> (a name DNS resolves holds nothing here).
    /// </summary>
    internal bool HoldsWithoutDns(IPAddress address, IReadOnlyDictionary<string, IReadOnlyList<IPAddress>> pins)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (Network is { } network)
            return network.BaseAddress.AddressFamily == address.AddressFamily && network.Contains(address);
        return HostName is { } host && pins.TryGetValue(host, out var pinned) && pinned.Contains(address);
    }

    /// <summary>An address (a /32 or /128 network) or a CIDR.</summary>
    public static Destination ForNetwork(IPNetwork network, SourceLocation? location = null) =>
        new(network.PrefixLength == network.BaseAddress.GetAddressBytes().Length * 8 ? network.BaseAddress.ToString() : network.ToString(),
            network, null, location ?? SourceLocation.Code);

    /// <summary>One of the networks an address range was read as: its <see cref="Text"/> is the range, as a reviewer wrote it.</summary>
    internal static Destination ForRangePart(IPNetwork network, string range, SourceLocation location) => new(range, network, null, location);

    /// <summary>A host name, resolved through <c>hosts:</c> pins or DNS.</summary>
    public static Destination ForHost(string hostName, SourceLocation? location = null) =>
        new(hostName, null, hostName.ToLowerInvariant(), location ?? SourceLocation.Code);

    /// <summary>As written (after variable expansion).</summary>
    public string Text { get; }

    /// <summary>The network, when this is an address or CIDR.</summary>
    public IPNetwork? Network { get; }

    /// <summary>The host name (lower case), when this is a name.</summary>
    public string? HostName { get; }

    /// <summary>Where it was written.</summary>
    public SourceLocation Location { get; }

    /// <summary>Equality ignores the location.</summary>
    public bool Equals(Destination? other) => other is not null && Text == other.Text && Network == other.Network && HostName == other.HostName;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Text, HostName);
}
