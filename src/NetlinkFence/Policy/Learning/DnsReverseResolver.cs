using System.Net;
using DnsClient;
using DnsClient.Protocol;
using NetlinkFence.Interop;

namespace NetlinkFence.Policy.Learning;

/// <summary>
/// PTR lookups through named DNS servers (the policy's resolvers), optionally from inside a network namespace: the
/// query's socket is made there, so it leaves through the namespace's routes and the policy's own DNS allow.
/// A server that does not answer in time, or answers with an error, gives no name; it never fails the caller.
/// </summary>
public sealed class DnsReverseResolver : IReverseResolver
{
    private readonly LookupClient _client;
    private readonly string? _networkNamespace;

    /// <summary>Queries <paramref name="servers"/> (port 53), each waited for at most <paramref name="timeout"/> (default 2 s).</summary>
    /// <param name="servers">The DNS servers to ask.</param>
    /// <param name="networkNamespace">A namespace path (<c>/run/netns/NAME</c>) to query from; null: the caller's.</param>
    /// <param name="timeout">Per-server timeout.</param>
    public DnsReverseResolver(IEnumerable<IPAddress> servers, string? networkNamespace = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(servers);
        var nameServers = servers.Select(s => new NameServer(s)).ToArray();
        if (nameServers.Length == 0)
            throw new ArgumentException("at least one DNS server is needed", nameof(servers));
        _client = new LookupClient(new LookupClientOptions(nameServers)
        {
            Timeout = timeout ?? TimeSpan.FromSeconds(2),
            Retries = 0,
            UseCache = false,
            ThrowDnsErrors = false,
            ContinueOnDnsError = true,
            UseRandomNameServer = false,
        });
        _networkNamespace = networkNamespace;
    }

    /// <inheritdoc />
    public async Task<string?> ReverseAsync(IPAddress address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        try
        {
            // The synchronous query makes its socket on the calling thread: inside the namespace when one is named.
            var response = _networkNamespace is null
                ? await _client.QueryReverseAsync(address, cancellationToken).ConfigureAwait(false)
                : await NetworkNamespace.RunAsync(_networkNamespace, () => _client.QueryReverse(address)).ConfigureAwait(false);
            string? name = response.Answers.OfType<PtrRecord>().Select(p => p.PtrDomainName.Value.TrimEnd('.')).FirstOrDefault(n => n.Length > 0);
            return name?.ToLowerInvariant();
        }
        catch (DnsResponseException)
        {
            return null;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return null;
        }
    }
}
