using System.Net;
using NetlinkFence.Policy;

namespace NetlinkFence.Tests.Dns;

/// <summary>
/// Answers set by the test (rootless unit tests of the refresher's bookkeeping; the real thing is tested against
/// dnsmasq in <see cref="DnsmasqTests"/>). A name without an answer fails like a silent server.
/// </summary>
public sealed class ScriptedDns : ITtlHostResolver
{
    private readonly Dictionary<string, DnsAnswer> _answers = new(StringComparer.OrdinalIgnoreCase);

    public List<string> Asked { get; } = [];

    public void Answer(string host, int ttlSeconds, params string[] addresses) =>
        _answers[host] = new DnsAnswer(host, addresses.Select(a => new DnsAddress(IPAddress.Parse(a), TimeSpan.FromSeconds(ttlSeconds))).ToList(), "scripted");

    public void Answer(DnsAnswer answer) => _answers[answer.Host] = answer;

    public void Silence(string host) => _answers.Remove(host);

    public Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<IPAddress>>(_answers.TryGetValue(host, out var a) ? a.Addresses.Select(x => x.Address).ToList() : []);

    public Task<DnsAnswer> LookupAsync(string host, CancellationToken cancellationToken)
    {
        Asked.Add(host);
        return Task.FromResult(_answers.TryGetValue(host, out var a) ? a : new DnsAnswer(host, [], "scripted", "timed out"));
    }
}
