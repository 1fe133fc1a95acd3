namespace NetlinkFence.Policy;

/// <summary>
/// How DNS names follow DNS while something keeps them fresh (<c>egress.dns.min_ttl</c>, <c>max_ttl</c>, <c>grace</c>,
/// <c>max_addresses_per_name</c>). A one-shot apply resolves names once and uses none of these.
/// </summary>
/// <param name="MinTtl">TTL floor: a name is re-resolved at most this often, and an address lives at least this long.</param>
/// <param name="Grace">An address stays allowed this long after its (bounded) TTL ran out, so live connections to a rotated CDN address are not cut.</param>
/// <param name="MaxAddressesPerName">Most addresses one name may hold; beyond it the oldest expire first.</param>
public sealed record DnsSettings(TimeSpan MinTtl, TimeSpan Grace, int MaxAddressesPerName)
{
    /// <summary>The default TTL cap, <c>max_ttl: 1h</c>.</summary>
    public static readonly TimeSpan DefaultMaxTtl = TimeSpan.FromHours(1);

    /// <summary>The defaults: <c>min_ttl: 30s</c>, <c>max_ttl: 1h</c>, <c>grace: 60s</c>, <c>max_addresses_per_name: 50</c>.</summary>
    public static DnsSettings Default { get; } = new(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), 50);

    /// <summary>
    /// TTL cap (default 1h, or <see cref="MinTtl"/> when that is longer): a name is re-resolved at least this often, and an address nobody refreshes leaves the
    /// kernel within this plus <see cref="Grace"/>, whatever TTL a resolver answered (a record with a TTL of years
    /// would otherwise stay allowed, and never be asked again, for years).
    /// </summary>
    public TimeSpan MaxTtl { get; init; } = DefaultMaxTtl;

    /// <summary>The TTL floored at <see cref="MinTtl"/> and capped at <see cref="MaxTtl"/>.</summary>
    public TimeSpan Bound(TimeSpan ttl) => ttl < MinTtl ? MinTtl : ttl > MaxTtl ? MaxTtl : ttl;

    /// <summary>How long an address answered with <paramref name="ttl"/> stays allowed: the bounded TTL plus grace.</summary>
    public TimeSpan Lifetime(TimeSpan ttl) => Bound(ttl) + Grace;
}
