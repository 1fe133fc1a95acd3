using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;
using NetlinkFence.Interop;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Policy.Learning;

namespace NetlinkFence.Runtime;

/// <summary>
/// Resolves names through given DNS servers (DnsClient), reading A and AAAA with their TTLs. With a network
/// namespace, every query leaves from inside it, the way the agent itself reaches its resolvers: lookups run
/// synchronously on threads that joined the namespace, so every socket DnsClient makes (UDP per query, TCP on a
/// truncated answer) is created in that namespace. Without one, they run on dedicated threads of this process.
/// The one place the product speaks DNS: forward lookups for the allow sets, PTR lookups for <c>learn</c>.
/// </summary>
/// <example>
/// <code>
/// var dns = DnsHostResolver.ForPolicy(policy, networkNamespace: "agent");
/// var resolved = await ResolvedPolicy.ResolveAsync(policy, dns);
/// </code>
/// </example>
public sealed class DnsHostResolver : ITtlHostResolver, IReverseResolver
{
    /// <summary>Lookups of one batch run on at most this many threads (a silent server costs a timeout per name).</summary>
    private const int Threads = 8;

    private readonly LookupClient _client;
    private readonly string? _namespacePath;
    private readonly string _label;
    private readonly NameServer[] _nameServers;
    private readonly string[] _serverLabels; // _nameServers[i].ToString(), made once: not a new string per answer

    /// <summary>Resolves through <paramref name="servers"/> (tried in order), inside <paramref name="networkNamespace"/> when given (a name under /run/netns or a path).</summary>
    /// <param name="servers">DNS servers, usually port 53.</param>
    /// <param name="networkNamespace">Where the queries leave from; null: this process's namespace.</param>
    /// <param name="timeout">How long one query waits for an answer (default 2 s; one retry).</param>
    public DnsHostResolver(IEnumerable<IPEndPoint> servers, string? networkNamespace = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(servers);
        var list = servers.Distinct().ToList();
        if (list.Count == 0)
            throw new ArgumentException("at least one DNS server is needed", nameof(servers));
        Servers = list;
        _namespacePath = new NftablesConnectionOptions { NetworkNamespace = networkNamespace }.NamespacePath;
        _label = string.Join(", ", list);
        _nameServers = list.Select(s => new NameServer(s)).ToArray();
        _serverLabels = _nameServers.Select(s => s.ToString()).ToArray();
        _client = new LookupClient(new LookupClientOptions(_nameServers)
        {
            UseCache = false, // the TTLs must be the server's, not a cache's countdown
            Timeout = timeout ?? TimeSpan.FromSeconds(2),
            Retries = 1,
            UseTcpFallback = true,
            ThrowDnsErrors = false,
            ContinueOnDnsError = true,
            UseRandomNameServer = false,
        });
    }

    /// <summary>
    /// The policy's own resolvers (<c>egress.dns.resolvers</c>: single addresses, and names pinned in <c>hosts:</c>),
    /// port 53; the system resolver (getaddrinfo, no TTLs: refreshed every <c>min_ttl</c>) only when the policy
    /// names none that is a single address. Both ask from inside <paramref name="networkNamespace"/> when given.
    /// </summary>
    public static ITtlHostResolver ForPolicy(EgressPolicy policy, string? networkNamespace = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var servers = new List<IPEndPoint>();
        foreach (var resolver in policy.Resolvers)
        {
            if (resolver.Network is { } network && network.PrefixLength == network.BaseAddress.GetAddressBytes().Length * 8)
                servers.Add(new IPEndPoint(network.BaseAddress, 53));
            else if (resolver.HostName is { } name && policy.Hosts.TryGetValue(name, out var pinned))
                servers.AddRange(pinned.Select(a => new IPEndPoint(a, 53)));
        }
        return servers.Count > 0
            ? new DnsHostResolver(servers, networkNamespace, timeout)
            : new SystemHostResolver(new NftablesConnectionOptions { NetworkNamespace = networkNamespace }.NamespacePath);
    }

    /// <summary>The servers asked, in order.</summary>
    public IReadOnlyList<IPEndPoint> Servers { get; }

    /// <inheritdoc />
    public async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken) =>
        (await LookupAsync(host, cancellationToken).ConfigureAwait(false)).Addresses.Select(a => a.Address).ToList();

    /// <inheritdoc />
    public async Task<DnsAnswer> LookupAsync(string host, CancellationToken cancellationToken) =>
        (await LookupManyAsync([host], cancellationToken).ConfigureAwait(false))[0];

    /// <inheritdoc />
    public async Task<IReadOnlyList<DnsAnswer>> LookupManyAsync(IReadOnlyList<string> hosts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        var answers = new DnsAnswer[hosts.Count];
        if (hosts.Count == 0)
            return answers;
        int threads = Math.Min(Threads, hosts.Count);
        var work = new Task<int>[threads];
        for (int t = 0; t < threads; t++)
        {
            int first = t;
            work[t] = OnThread(() =>
            {
                // Interleaved slices: names next to each other in the policy go to different threads.
                for (int i = first; i < hosts.Count; i += threads)
                {
                    if (cancellationToken.IsCancellationRequested)
                        break;
                    answers[i] = Lookup(hosts[i]);
                }
                return 0;
            });
        }
        await Task.WhenAll(work).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return answers;
    }

    /// <summary>
    /// The PTR name of <paramref name="address"/> (lower case, no trailing dot), asked the same way as forward
    /// lookups; a server that does not answer, or answers with an error, gives null, never an exception.
    /// </summary>
    public async Task<string?> ReverseAsync(IPAddress address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        return await OnThread(() =>
        {
            try
            {
                var response = _client.QueryReverse(address);
                return response.Answers.OfType<PtrRecord>().Select(p => p.PtrDomainName.Value.TrimEnd('.')).FirstOrDefault(n => n.Length > 0)?.ToLowerInvariant();
            }
            catch (Exception e) when (e is DnsResponseException or SocketException or IOException)
            {
                return null;
            }
        }).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs blocking lookups on a thread of their own, inside the namespace when there is one.</summary>
    private Task<T> OnThread<T>(Func<T> action) =>
        _namespacePath is { } path ? NetworkNamespace.RunAsync(path, action)
        : Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>A then AAAA, synchronously (sockets are made on this thread); a failed A stops there.</summary>
    private DnsAnswer Lookup(string host)
    {
        var addresses = new List<DnsAddress>();
        string resolver = _label;
        foreach (var type in (ReadOnlySpan<QueryType>)[QueryType.A, QueryType.AAAA])
        {
            IDnsQueryResponse response;
            try
            {
                response = _client.Query(host, type);
            }
            catch (Exception e) when (e is DnsResponseException or SocketException or IOException)
            {
                return new DnsAnswer(host, addresses, resolver, e.Message);
            }
            resolver = LabelOf(response.NameServer);
            if (response.HasError)
            {
                // NXDOMAIN answers both types at once; no need to ask for AAAA.
                if (type == QueryType.A && response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
                    return new DnsAnswer(host, addresses, resolver, response.ErrorMessage);
                if (addresses.Count == 0 && type == QueryType.AAAA)
                    return new DnsAnswer(host, addresses, resolver, response.ErrorMessage);
                continue;
            }
            // A CNAME chain expires with its shortest link. InitialTimeToLive is the server's TTL: DnsClient's
            // TimeToLive counts down from when the record was parsed, so on a loaded machine it read a second short.
            int chain = int.MaxValue;
            foreach (var record in response.Answers)
            {
                if (record is CNameRecord)
                    chain = Math.Min(chain, record.InitialTimeToLive);
            }
            foreach (var record in response.Answers)
            {
                if (record is AddressRecord address && (record is ARecord ? type == QueryType.A : type == QueryType.AAAA))
                    addresses.Add(new DnsAddress(address.Address, TimeSpan.FromSeconds(Math.Max(0, Math.Min(chain, record.InitialTimeToLive)))));
            }
        }
        return new DnsAnswer(host, addresses, resolver, addresses.Count == 0 ? "no A or AAAA records" : null);
    }

    /// <summary>The server that answered, as text (the label made once for each configured server).</summary>
    private string LabelOf(NameServer? server)
    {
        if (server is null)
            return _label;
        for (int i = 0; i < _nameServers.Length; i++)
        {
            if (_nameServers[i].Equals(server))
                return _serverLabels[i];
        }
        return server.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => _label + (_namespacePath is null ? "" : " in " + _namespacePath);
}
