namespace NetlinkFence.Policy;

/// <summary>
/// How DNS names follow DNS while something keeps them fresh (<c>egress.dns.min_ttl</c>, <c>grace</c>,
/// <c>max_addresses_per_name</c>). A one-shot apply resolves names once and uses none of these.
/// </summary>
/// <param name="MinTtl">TTL floor: a name is re-resolved at most this often, and an address lives at least this long.</param>
/// <param name="Grace">An address stays allowed this long after its (floored) TTL ran out, so live connections to a rotated CDN address are not cut.</param>
/// <param name="MaxAddressesPerName">Most addresses one name may hold; beyond it the oldest expire first.</param>
public sealed record DnsSettings(TimeSpan MinTtl, TimeSpan Grace, int MaxAddressesPerName)
{
    /// <summary>The defaults: <c>min_ttl: 30s</c>, <c>grace: 60s</c>, <c>max_addresses_per_name: 50</c>.</summary>
    public static DnsSettings Default { get; } = new(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), 50);

    /// <summary>The TTL floored at <see cref="MinTtl"/>.</summary>
    public TimeSpan Floor(TimeSpan ttl) => ttl < MinTtl ? MinTtl : ttl;

    /// <summary>How long an address answered with <paramref name="ttl"/> stays allowed: floored TTL plus grace.</summary>
    public TimeSpan Lifetime(TimeSpan ttl) => Floor(ttl) + Grace;
}
