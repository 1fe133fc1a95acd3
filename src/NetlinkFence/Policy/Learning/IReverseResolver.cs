using System.Net;

namespace NetlinkFence.Policy.Learning;

/// <summary>Names an address (a PTR lookup); replaceable so tests and embedders control DNS.</summary>
public interface IReverseResolver
{
    /// <summary>The name of <paramref name="address"/> (without the trailing dot), or null when none is known.</summary>
    Task<string?> ReverseAsync(IPAddress address, CancellationToken cancellationToken);
}
