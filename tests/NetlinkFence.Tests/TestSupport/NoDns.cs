using System.Net;
using NetlinkFence.Policy;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>A resolver for tests: fixed answers, never real DNS.</summary>
public sealed class FixedResolver(Dictionary<string, IPAddress[]>? answers = null) : IHostResolver
{
    public Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<IPAddress>>(answers is not null && answers.TryGetValue(host, out var a) ? a : []);
}
