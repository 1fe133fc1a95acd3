namespace NetlinkFence.Policy.Layout;

/// <summary>
/// A grant as the planner sees it: one entry's claim on <c>First..Last . Protocol . Ports</c> until
/// <see cref="Expires"/>, with the entry's rank in policy order. Unlike <see cref="AllowGrant"/> the address range
/// need not be a CIDR network: a model rebuilt from a kernel dump holds the elements' ranges.
/// </summary>
internal sealed record PlacedGrant(string Entry, DateTimeOffset? Expires, byte Protocol, UInt128 First, UInt128 Last, PortRange Ports, int Rank)
{
    /// <summary>
    /// Settable for <see cref="AllowSetModel.TryMoveExpiry"/>, which moves the expiry of grants its model alone holds,
    /// between changes (no collection keyed by grants outlives a change).
    /// </summary>
    public DateTimeOffset? Expires { get; set; } = Expires;

    public Contributor Contributor => new(Rank, Entry, Expires);
}
