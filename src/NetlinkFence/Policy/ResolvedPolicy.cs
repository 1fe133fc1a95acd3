using System.Net;
using System.Net.Sockets;

namespace NetlinkFence.Policy;

/// <summary>A policy whose host names have been turned into addresses: ready to compile.</summary>
public sealed class ResolvedPolicy
{
    private ResolvedPolicy(EgressPolicy policy, IReadOnlyDictionary<string, HostResolution> names, IReadOnlyDictionary<ServiceScope, ScopeBinding> scopes)
    {
        Policy = policy;
        Names = names;
        Scopes = scopes;
    }

    /// <summary>Every <c>by:</c> item of the policy, resolved on the host (units to cgroups, users to uids).</summary>
    public IReadOnlyDictionary<ServiceScope, ScopeBinding> Scopes { get; }

    /// <summary>The bindings of <paramref name="entry"/>'s <c>by:</c> items, in order (empty: the entry is open to every process).</summary>
    public IEnumerable<ScopeBinding> ScopesOf(AllowEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.By.Select(s => Scopes[s]);
    }

    /// <summary>This policy with <paramref name="scope"/> bound to <paramref name="binding"/> (the daemon's view after a unit restarted).</summary>
    public ResolvedPolicy WithBinding(ServiceScope scope, ScopeBinding binding)
    {
        var scopes = new Dictionary<ServiceScope, ScopeBinding>(Scopes) { [scope] = binding };
        return new ResolvedPolicy(Policy, Names, scopes);
    }

    /// <summary>
    /// As <see cref="ResolveAsync(EgressPolicy, IHostResolver?, CancellationToken)"/>, and resolves every <c>by:</c> item
    /// on <paramref name="host"/>: an unknown user, a cgroup path outside the cgroup2 mount, a unit or cgroup that does not
    /// exist (unless <c>when_absent: deny</c>) are located errors.
    /// </summary>
    public static async Task<ResolvedPolicy> ResolveAsync(EgressPolicy policy, IHostResolver? resolver, IServiceHost? host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var scopes = ScopeResolver.Resolve(policy, host); // first: fails before any DNS traffic
        return await ResolveNamesAsync(policy, resolver, scopes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The policy.</summary>
    public EgressPolicy Policy { get; }

    /// <summary>Every host name the policy uses, with its addresses and where they came from.</summary>
    public IReadOnlyDictionary<string, HostResolution> Names { get; }

    /// <summary>
    /// Resolves every host name: a <c>hosts:</c> pin wins over DNS. A name that resolves to nothing is an error
    /// (with its location): it would silently allow nothing; unless every entry using it says <c>resolve: lazy</c>,
    /// then it is kept with no addresses (<see cref="HostResolution.Unresolved"/>). With an
    /// <see cref="ITtlHostResolver"/>, all names are asked in one batch and the answers keep their TTLs.
    /// </summary>
    public static Task<ResolvedPolicy> ResolveAsync(EgressPolicy policy, IHostResolver? resolver = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        // A policy with by: and no host to resolve it on is an error (located), never "open to everyone".
        return ResolveNamesAsync(policy, resolver, ScopeResolver.Resolve(policy, null), cancellationToken);
    }

    private static async Task<ResolvedPolicy> ResolveNamesAsync(EgressPolicy policy, IHostResolver? resolver, Dictionary<ServiceScope, ScopeBinding> scopes,
        CancellationToken cancellationToken)
    {
        resolver ??= new SystemHostResolver();
        var names = new Dictionary<string, HostResolution>(StringComparer.OrdinalIgnoreCase);
        // Each DNS name once, with where it must resolve (the first use by an entry that is not lazy), or null.
        var wanted = new Dictionary<string, SourceLocation?>(StringComparer.OrdinalIgnoreCase);
        var uses = policy.Resolvers.Select(d => (Destination: d, Lazy: false))
            .Concat(policy.Egress.SelectMany(e => e.Peers.Select(d => (Destination: d, Lazy: e.ResolveLazily))))
            .Concat(policy.Input.SelectMany(e => e.Peers.Select(d => (Destination: d, Lazy: false))));
        foreach (var (destination, lazy) in uses.Where(u => u.Destination.HostName is not null))
        {
            string host = destination.HostName!;
            if (policy.Hosts.TryGetValue(host, out var pinned))
            {
                names.TryAdd(host, new HostResolution(host, Sorted(pinned), ResolutionSource.Pin));
                continue;
            }
            var required = lazy ? null : destination.Location;
            if (!wanted.TryAdd(host, required) && wanted[host] is null)
                wanted[host] = required;
        }

        var hosts = wanted.Keys.ToList();
        var errors = new List<PolicyDiagnostic>();
        if (resolver is ITtlHostResolver timed)
        {
            var answers = await timed.LookupManyAsync(hosts, cancellationToken).ConfigureAwait(false);
            var now = DateTimeOffset.UtcNow;
            foreach (var answer in answers)
            {
                var all = answer.Addresses.Select(a => (Address: Usable(a.Address), a.Ttl)).Where(a => a.Address is not null)
                    .Select(a => new DnsAddress(a.Address!, a.Ttl)).DistinctBy(a => a.Address).OrderBy(a => a.Address, AddressOrder.Instance).ToList();
                var (usable, refused) = AnswerScreen.Split(all, a => a.Address);
                Add(answer.Host, usable.Select(a => a.Address).ToList(), answer.Error, refused.Select(a => a.Address).ToList());
                if (names.TryGetValue(answer.Host, out var found))
                    names[answer.Host] = found with { Answers = usable, Resolver = answer.Resolver, ResolvedAt = now };
            }
        }
        else
        {
            foreach (string host in hosts)
            {
                var addresses = await resolver.ResolveAsync(host, cancellationToken).ConfigureAwait(false);
                var all = addresses.Select(Usable).OfType<IPAddress>().Distinct().ToList();
                var (usable, refused) = AnswerScreen.Split(all, a => a);
                Add(host, usable, null, refused);
            }
        }
        if (errors.Count > 0)
            throw new PolicyException(errors);
        return new ResolvedPolicy(policy, names, scopes);

        void Add(string host, List<IPAddress> usable, string? why, List<IPAddress> refused)
        {
            if (usable.Count == 0 && refused.Count > 0 && wanted[host] is { } at)
                errors.Add(new PolicyDiagnostic(Severity.Error, at,
                    $"host '{host}' resolved only to addresses a name may not open: {AnswerScreen.Describe(refused)}; a misconfigured or poisoned resolver, or DNS rebinding, answers like this",
                    AnswerScreen.Fix, "refused-answer"));
            else if (usable.Count == 0 && wanted[host] is { } location)
                errors.Add(new PolicyDiagnostic(Severity.Error, location, $"host '{host}' did not resolve to any address{(why is null ? "" : $" ({why})")}",
                    "pin it under 'hosts:' (preferred), check DNS, or write 'resolve: lazy' on the entry to allow it once it resolves", "unresolved-host"));
            else
                names[host] = new HostResolution(host, Sorted(usable), ResolutionSource.Dns) { Refused = refused };
        }
    }

    /// <summary>An IPv4 or IPv6 address as a set element takes it (v4-mapped as v4, no zone); null for other families.</summary>
    private static IPAddress? Usable(IPAddress address) =>
        address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) ? null
        : address.IsIPv4MappedToIPv6 ? address.MapToIPv4()
        : AddressParser.HasZone(address) ? new IPAddress(address.GetAddressBytes()) : address;

    /// <summary>The networks a destination stands for.</summary>
    public IEnumerable<IPNetwork> NetworksOf(Destination destination) =>
        destination.Network is { } network
            ? [network]
            : Names[destination.HostName!].Addresses.Select(HostNetwork);

    /// <summary>
    /// Adds the networks of <see cref="NetworksOf"/> that <paramref name="seen"/> does not hold yet to <paramref name="networks"/>,
    /// without an iterator: the compiler asks this for every peer of every entry.
    /// </summary>
    internal void AddNetworksOf(Destination destination, List<IPNetwork> networks, HashSet<IPNetwork> seen)
    {
        if (destination.Network is { } network)
        {
            if (seen.Add(network))
                networks.Add(network);
            return;
        }
        var addresses = Names[destination.HostName!].Addresses;
        for (int i = 0; i < addresses.Count; i++)
        {
            var host = HostNetwork(addresses[i]);
            if (seen.Add(host))
                networks.Add(host);
        }
    }

    private static IPNetwork HostNetwork(IPAddress address) => new(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);

    private static List<IPAddress> Sorted(IEnumerable<IPAddress> addresses) =>
        addresses.Distinct().OrderBy(a => a, AddressOrder.Instance).ToList();

    /// <summary>IPv4 before IPv6, then by bytes: the order addresses are listed in everywhere.</summary>
    private sealed class AddressOrder : IComparer<IPAddress?>
    {
        public static readonly AddressOrder Instance = new();

        public int Compare(IPAddress? x, IPAddress? y) =>
            x is null || y is null ? Comparer<object?>.Default.Compare(x, y)
            : x.AddressFamily != y.AddressFamily ? x.AddressFamily.CompareTo(y.AddressFamily)
            : x.GetAddressBytes().AsSpan().SequenceCompareTo(y.GetAddressBytes());
    }
}
