using System.Net;

namespace NetlinkFence.Policy;

/// <summary>Where a host name's addresses came from.</summary>
public enum ResolutionSource
{
    /// <summary>A <c>hosts:</c> pin in the policy (preferred: no trust in DNS).</summary>
    Pin,
    /// <summary>A DNS lookup (A and AAAA) when the policy was resolved; see <see cref="HostResolution.Resolver"/> for which resolver.</summary>
    Dns,
}

/// <summary>The addresses one host name stands for.</summary>
/// <param name="Host">The name.</param>
/// <param name="Addresses">Its addresses, sorted.</param>
/// <param name="Source">Pin or DNS.</param>
public sealed record HostResolution(string Host, IReadOnlyList<IPAddress> Addresses, ResolutionSource Source)
{
    /// <summary>For DNS answers with TTLs (<see cref="ITtlHostResolver"/>): every address with its TTL, in the order of <see cref="Addresses"/>; empty otherwise.</summary>
    public IReadOnlyList<DnsAddress> Answers { get; init; } = [];

    /// <summary>Which resolver answered (e.g. <c>192.168.1.10:53</c>, or <c>system</c>); null for pins.</summary>
    public string? Resolver { get; init; }

    /// <summary>When the answer was received; null for pins.</summary>
    public DateTimeOffset? ResolvedAt { get; init; }

    /// <summary>
    /// Addresses DNS answered that a name may not open (loopback, link-local where the cloud metadata service answers,
    /// multicast, ...): left out of <see cref="Addresses"/>, and shown by <c>plan</c>. Empty for pins.
    /// </summary>
    public IReadOnlyList<IPAddress> Refused { get; init; } = [];

    /// <summary>True for a <c>resolve: lazy</c> name that did not resolve: it allows nothing until it does.</summary>
    public bool Unresolved => Source == ResolutionSource.Dns && Addresses.Count == 0;

    /// <summary>Equality by value.</summary>
    public bool Equals(HostResolution? other) =>
        other is not null && Host == other.Host && Source == other.Source && Addresses.SequenceEqual(other.Addresses);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Host, Source, Addresses.Count);
}

/// <summary>Resolves host names to addresses; replaceable so tests and embedders control DNS.</summary>
public interface IHostResolver
{
    /// <summary>Returns every A and AAAA address of <paramref name="host"/>, or an empty list.</summary>
    Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken);
}

/// <summary>
/// The system resolver (getaddrinfo, as configured in /etc/nsswitch.conf, /etc/hosts and /etc/resolv.conf). It
/// reports no TTLs: its answers carry TTL 0, which the DNS refresher floors at <c>min_ttl</c>.
/// </summary>
public sealed class SystemHostResolver : ITtlHostResolver
{
    private readonly string? _namespacePath;

    /// <summary>Resolves in this process's network namespace.</summary>
    public SystemHostResolver()
    {
    }

    /// <summary>Resolves from inside the network namespace at <paramref name="namespacePath"/> (null: this process's).</summary>
    public SystemHostResolver(string? namespacePath) => _namespacePath = namespacePath;

    /// <inheritdoc />
    public async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        try
        {
            if (_namespacePath is { } path)
                return await NetlinkFence.Interop.NetworkNamespace.RunAsync(path, () => Dns.GetHostAddresses(host)).WaitAsync(cancellationToken).ConfigureAwait(false);
            return await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException)
        {
            return [];
        }
    }

    /// <inheritdoc />
    public async Task<DnsAnswer> LookupAsync(string host, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(host, cancellationToken).ConfigureAwait(false);
        return new DnsAnswer(host, addresses.Select(a => new DnsAddress(a, TimeSpan.Zero)).ToList(), "system (getaddrinfo)",
            addresses.Count == 0 ? "the system resolver found no address" : null);
    }
}
