using System.Net;
using NetlinkFence.Policy;

namespace NetlinkFence.Runtime;

/// <summary>
/// Keeps every DNS name of a policy (those not pinned in <c>hosts:</c>) fresh: asks again when a name's TTL
/// (floored at <c>min_ttl</c>) runs out, and hands each name's addresses with their expiry (TTL + <c>grace</c>,
/// at most <c>max_addresses_per_name</c>, the oldest expiring first) to a sink such as
/// <c>LivePolicy.RefreshNameAsync</c>, which turns the expiry into kernel element timeouts: an address nobody
/// refreshes leaves the kernel by itself. A name that stops resolving keeps its last addresses until they expire;
/// the failure is logged once per name per TTL.
/// </summary>
/// <example>
/// <code>
/// var refresher = new DnsRefresher(resolved, DnsHostResolver.ForPolicy(resolved.Policy, "agent"),
///     (host, addresses, ct) => live.RefreshNameAsync(host, addresses, ct), log: Console.Error.WriteLine);
/// await refresher.RunAsync(stopping);
/// </code>
/// </example>
public sealed class DnsRefresher
{
    /// <summary>Receives a name's addresses with the time each must expire at (the list is reused: copy what you keep).</summary>
    public delegate Task RefreshName(string host, IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> addresses, CancellationToken cancellationToken);

    private readonly ITtlHostResolver _resolver;
    private readonly RefreshName _sink;
    private readonly TimeProvider _time;
    private readonly Action<string> _log;
    private readonly TrackedName[] _names;
    private readonly List<string> _dueHosts = [];
    private readonly List<TrackedName> _due = [];

    /// <summary>Tracks every DNS name of <paramref name="policy"/>; all are due at once (the first round asks for all).</summary>
    /// <param name="policy">The resolved policy: its names that are not pinned are kept fresh (lazy ones too).</param>
    /// <param name="resolver">Asks DNS, e.g. <see cref="DnsHostResolver.ForPolicy"/>.</param>
    /// <param name="sink">Gets each refreshed name's addresses.</param>
    /// <param name="time">The clock (tests move it by hand); default the system's.</param>
    /// <param name="log">Failures and caps, one line each; default none.</param>
    public DnsRefresher(ResolvedPolicy policy, ITtlHostResolver resolver, RefreshName sink, TimeProvider? time = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(sink);
        Settings = policy.Policy.Dns;
        _resolver = resolver;
        _sink = sink;
        _time = time ?? TimeProvider.System;
        _log = log ?? (_ => { });
        // Every name is due at once: the first round gives the kernel each address's expiry. Until an answer
        // arrives, the addresses the apply put in stay as the apply left them.
        var now = _time.GetUtcNow();
        _names = policy.Names.Values.Where(n => n.Source == ResolutionSource.Dns).OrderBy(n => n.Host, StringComparer.Ordinal)
            .Select(n => new TrackedName(n.Host) { Due = now, LastTtl = Settings.MinTtl }).ToArray();
    }

    /// <summary>The timings in use (<c>egress.dns</c> of the policy).</summary>
    public DnsSettings Settings { get; }

    /// <summary>The names kept fresh (not pinned), sorted.</summary>
    public IReadOnlyList<string> Names => _names.Select(n => n.Host).ToList();

    /// <summary>When the next name is due; <see cref="DateTimeOffset.MaxValue"/> when there are no names.</summary>
    public DateTimeOffset NextDue
    {
        get
        {
            var next = DateTimeOffset.MaxValue;
            foreach (var name in _names)
                next = name.Due < next ? name.Due : next;
            return next;
        }
    }

    /// <summary>The addresses a name holds now with their expiry (a copy), or an empty list for a name not tracked.</summary>
    public IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> AddressesOf(string host) =>
        _names.FirstOrDefault(n => string.Equals(n.Host, host, StringComparison.OrdinalIgnoreCase))?.Addresses.ToList() ?? [];

    /// <summary>
    /// One round: asks DNS (in one batch) for every name whose time has come, and hands each answered name to the
    /// sink. Returns how many names were answered (a failed name is logged, keeps its addresses and is asked
    /// again after <c>min_ttl</c>).
    /// </summary>
    public async Task<int> RefreshDueAsync(CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        _due.Clear();
        _dueHosts.Clear();
        foreach (var name in _names)
        {
            if (name.Due <= now)
            {
                _due.Add(name);
                _dueHosts.Add(name.Host);
            }
        }
        if (_due.Count == 0)
            return 0;
        var answers = await _resolver.LookupManyAsync(_dueHosts, cancellationToken).ConfigureAwait(false);
        now = _time.GetUtcNow();
        int answered = 0;
        for (int i = 0; i < _due.Count; i++)
        {
            if (!Accept(_due[i], answers[i], now))
                continue;
            answered++;
            try
            {
                await _sink(_due[i].Host, _due[i].Addresses, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The kernel keeps what it had (each address expires on its own timeout); try again after min_ttl
                // rather than stopping every other name.
                _due[i].Due = now + Settings.MinTtl;
                _log($"dns: handing {_due[i].Host}'s {_due[i].Addresses.Count} address(es) on failed: {e.Message}; trying again in {Settings.MinTtl.TotalSeconds:0}s");
            }
        }
        return answered;
    }

    /// <summary>Refreshes names as they fall due until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await RefreshDueAsync(cancellationToken).ConfigureAwait(false);
            var wait = NextDue - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait < TimeSpan.FromHours(1) ? wait : TimeSpan.FromHours(1), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Merges one answer into its name; false (after logging, at most once per TTL) when there is nothing to hand on.</summary>
    internal bool Accept(TrackedName name, DnsAnswer answer, DateTimeOffset now)
    {
        if (answer.Addresses.Count == 0)
        {
            name.Prune(now);
            name.Due = now + Settings.MinTtl;
            if (now >= name.QuietFailuresUntil)
            {
                name.QuietFailuresUntil = now + name.LastTtl;
                _log($"dns: {name.Host} did not resolve via {answer.Resolver} ({answer.Error ?? "no addresses"}); keeping its {name.Addresses.Count} last address(es) until they expire");
            }
            return false;
        }
        int dropped = name.Merge(answer.Addresses, now, Settings);
        if (dropped > 0 && now >= name.QuietCapUntil)
        {
            name.QuietCapUntil = now + name.LastTtl;
            _log($"dns: {name.Host} has more than max_addresses_per_name ({Settings.MaxAddressesPerName}) addresses; {dropped} that would expire first were dropped");
        }
        return true;
    }
}
