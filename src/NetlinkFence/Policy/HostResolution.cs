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

/// <summary>The system resolver (getaddrinfo, as configured in /etc/nsswitch.conf and /etc/resolv.conf).</summary>
public sealed class SystemHostResolver : IHostResolver
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        try
        {
            return await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException)
        {
            return [];
        }
    }
}
