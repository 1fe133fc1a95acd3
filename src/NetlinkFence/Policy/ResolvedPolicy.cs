using System.Net;
using System.Net.Sockets;

namespace NetlinkFence.Policy;

/// <summary>A policy whose host names have been turned into addresses: ready to compile.</summary>
public sealed class ResolvedPolicy
{
    private ResolvedPolicy(EgressPolicy policy, IReadOnlyDictionary<string, HostResolution> names)
    {
        Policy = policy;
        Names = names;
    }

    /// <summary>The policy.</summary>
    public EgressPolicy Policy { get; }

    /// <summary>Every host name the policy uses, with its addresses and where they came from.</summary>
    public IReadOnlyDictionary<string, HostResolution> Names { get; }

    /// <summary>
    /// Resolves every host name: a <c>hosts:</c> pin wins over DNS. A name that resolves to nothing is an error
    /// (with its location): it would silently allow nothing.
    /// </summary>
    public static async Task<ResolvedPolicy> ResolveAsync(EgressPolicy policy, IHostResolver? resolver = null, CancellationToken cancellationToken = default)
    {
        resolver ??= new SystemHostResolver();
        var names = new Dictionary<string, HostResolution>(StringComparer.OrdinalIgnoreCase);
        var errors = new List<PolicyDiagnostic>();
        var all = policy.Resolvers.Concat(policy.Egress.SelectMany(e => e.Peers)).Concat(policy.Input.SelectMany(e => e.Peers));
        foreach (var destination in all.Where(d => d.HostName is not null))
        {
            string host = destination.HostName!;
            if (names.ContainsKey(host))
                continue;
            if (policy.Hosts.TryGetValue(host, out var pinned))
            {
                names[host] = new HostResolution(host, Sorted(pinned), ResolutionSource.Pin);
                continue;
            }
            var addresses = await resolver.ResolveAsync(host, cancellationToken).ConfigureAwait(false);
            var usable = addresses.Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                .Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Select(a => AddressParser.HasZone(a) ? new IPAddress(a.GetAddressBytes()) : a).Distinct().ToList();
            if (usable.Count == 0)
                errors.Add(new PolicyDiagnostic(Severity.Error, destination.Location, $"host '{host}' did not resolve to any address",
                    $"pin it under 'hosts:' (preferred), or check DNS", "unresolved-host"));
            else
                names[host] = new HostResolution(host, Sorted(usable), ResolutionSource.Dns);
        }
        if (errors.Count > 0)
            throw new PolicyException(errors);
        return new ResolvedPolicy(policy, names);
    }

    /// <summary>The networks a destination stands for.</summary>
    public IEnumerable<IPNetwork> NetworksOf(Destination destination) =>
        destination.Network is { } network
            ? [network]
            : Names[destination.HostName!].Addresses.Select(a => new IPNetwork(a, a.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));

    private static List<IPAddress> Sorted(IEnumerable<IPAddress> addresses) =>
        addresses.Distinct().OrderBy(a => a.AddressFamily).ThenBy(a => Convert.ToHexString(a.GetAddressBytes()), StringComparer.Ordinal).ToList();
}
