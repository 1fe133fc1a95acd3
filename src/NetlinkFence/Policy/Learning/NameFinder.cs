using System.Net;

namespace NetlinkFence.Policy.Learning;

/// <summary>The name of a denied address: a <c>hosts:</c> pin first, then a name the policy resolves, then reverse DNS.</summary>
internal sealed class NameFinder
{
    private readonly Dictionary<IPAddress, string> _pinned = [];
    private readonly Dictionary<IPAddress, string> _resolved = [];
    private readonly Dictionary<IPAddress, string?> _reversed = [];
    private readonly IReverseResolver? _reverse;

    public NameFinder(ResolvedPolicy policy, IReverseResolver? reverse)
    {
        // Sorted, so an address with several names always gets the same one.
        foreach (var (host, addresses) in policy.Policy.Hosts.OrderBy(h => h.Key, StringComparer.Ordinal))
            foreach (var address in addresses)
                _pinned.TryAdd(address, host.ToLowerInvariant());
        foreach (var resolution in policy.Names.Values.Where(r => r.Source == ResolutionSource.Dns).OrderBy(r => r.Host, StringComparer.Ordinal))
            foreach (var address in resolution.Addresses)
                _resolved.TryAdd(address, resolution.Host);
        _reverse = reverse;
    }

    public async Task<(string? Name, NameSource Source)> NameOfAsync(IPAddress address, CancellationToken cancellationToken)
    {
        if (_pinned.TryGetValue(address, out string? pinned))
            return (pinned, NameSource.Pin);
        if (_resolved.TryGetValue(address, out string? resolved))
            return (resolved, NameSource.Resolved);
        if (_reverse is null)
            return (null, NameSource.None);
        if (!_reversed.TryGetValue(address, out string? reversed))
            _reversed[address] = reversed = await _reverse.ReverseAsync(address, cancellationToken).ConfigureAwait(false);
        return reversed is null ? (null, NameSource.None) : (reversed, NameSource.ReverseDns);
    }
}
