using System.Net;
using NetlinkFence.Policy;

namespace NetlinkFence.Runtime;

/// <summary>
/// Keeps every DNS name of a policy (those not pinned in <c>hosts:</c>) fresh: asks again when a name's TTL
/// (floored at <c>min_ttl</c>) runs out, and hands each name's addresses with their expiry (TTL + <c>grace</c>,
/// at most <c>max_addresses_per_name</c>, the oldest expiring first) to a sink such as
/// <c>LivePolicy.RefreshNamesAsync</c> (all names of a round at once: one kernel transaction per round), which turns
/// the expiry into kernel element timeouts: an address nobody refreshes leaves the kernel by itself. A name that stops
/// resolving keeps its last addresses until they expire; the failure is logged once per name per TTL. The names kept
/// fresh are those the policy's egress entries name (<c>to:</c>); a name used only in <c>input</c> (<c>from:</c>) is
/// resolved when the table is applied and reloaded, not refreshed.
/// </summary>
/// <example>
/// <code>
/// var refresher = new DnsRefresher(resolved, DnsHostResolver.ForPolicy(resolved.Policy, "agent"),
///     (names, ct) => live.RefreshNamesAsync(names, ct), log: Console.Error.WriteLine);
/// await refresher.RunAsync(stopping);
/// </code>
/// </example>
public sealed class DnsRefresher
{
    /// <summary>Receives a name's addresses with the time each must expire at (the list is reused: copy what you keep).</summary>
    public delegate Task RefreshName(string host, IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> addresses, CancellationToken cancellationToken);

    /// <summary>Receives every name answered in one round with its addresses (the lists are reused: copy what you keep).</summary>
    public delegate Task RefreshNames(IReadOnlyList<(string Host, IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> Addresses)> names, CancellationToken cancellationToken);

    private readonly ITtlHostResolver _resolver;
    private readonly RefreshNames _sink;
    private readonly RefreshName? _perName;
    private readonly TimeProvider _time;
    private readonly Action<string> _log;
    private readonly TrackedName[] _names;
    private readonly List<string> _dueHosts = [];
    private readonly List<TrackedName> _due = [];
    private readonly List<TrackedName> _answered = [];
    private readonly List<(string Host, IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> Addresses)> _handed = [];

    /// <summary>Tracks every DNS name the egress entries of <paramref name="policy"/> name; all are due at once (the first round asks for all).</summary>
    /// <param name="policy">The resolved policy: its names that are not pinned are kept fresh (lazy ones too).</param>
    /// <param name="resolver">Asks DNS, e.g. <see cref="DnsHostResolver.ForPolicy"/>.</param>
    /// <param name="sink">Gets each refreshed name's addresses, one name at a time.</param>
    /// <param name="time">The clock (tests move it by hand); default the system's.</param>
    /// <param name="log">Failures and caps, one line each; default none.</param>
    public DnsRefresher(ResolvedPolicy policy, ITtlHostResolver resolver, RefreshName sink, TimeProvider? time = null, Action<string>? log = null)
        : this(policy, resolver, (RefreshNames)((_, _) => Task.CompletedTask), time, log)
    {
        _perName = sink ?? throw new ArgumentNullException(nameof(sink));
    }

    /// <summary>Tracks every DNS name the egress entries of <paramref name="policy"/> name; all are due at once (the first round asks for all).</summary>
    /// <param name="policy">The resolved policy: its names that are not pinned are kept fresh (lazy ones too).</param>
    /// <param name="resolver">Asks DNS, e.g. <see cref="DnsHostResolver.ForPolicy"/>.</param>
    /// <param name="sink">Gets every name answered in a round at once (e.g. one kernel transaction per round).</param>
    /// <param name="time">The clock (tests move it by hand); default the system's.</param>
    /// <param name="log">Failures and caps, one line each; default none.</param>
    public DnsRefresher(ResolvedPolicy policy, ITtlHostResolver resolver, RefreshNames sink, TimeProvider? time = null, Action<string>? log = null)
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
        var egress = policy.Policy.Egress.SelectMany(e => e.Peers).Select(p => p.HostName).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        _names = policy.Names.Values.Where(n => n.Source == ResolutionSource.Dns && egress.Contains(n.Host)).OrderBy(n => n.Host, StringComparer.Ordinal)
            .Select(n => new TrackedName(n.Host) { Due = now, LastTtl = Settings.MinTtl }).ToArray();
        NotRefreshed = policy.Names.Values.Where(n => n.Source == ResolutionSource.Dns && !egress.Contains(n.Host)).Select(n => n.Host)
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>DNS names only <c>input</c> entries use (<c>from:</c>): resolved when the table is applied, not kept fresh here.</summary>
    public IReadOnlyList<string> NotRefreshed { get; }

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
    /// Whether <paramref name="host"/> has been answered since this refresher started: from then on its addresses are the
    /// ones <see cref="AddressesOf"/> lists (none when they all expired), not the ones the policy was applied with.
    /// </summary>
    public bool HasAnswered(string host) =>
        _names.FirstOrDefault(n => string.Equals(n.Host, host, StringComparison.OrdinalIgnoreCase))?.Answered ?? false;

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
        _answered.Clear();
        _handed.Clear();
        for (int i = 0; i < _due.Count; i++)
        {
            if (Accept(_due[i], answers[i], now))
            {
                _answered.Add(_due[i]);
                _handed.Add((_due[i].Host, _due[i].Addresses));
            }
        }
        if (_handed.Count == 0)
            return 0;
        if (_perName is not null)
            return await HandOneByOneAsync(_perName, now, cancellationToken).ConfigureAwait(false);
        try
        {
            await _sink(_handed, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The kernel keeps what it had (each address expires on its own timeout); try again after min_ttl
            // rather than stopping.
            foreach (var name in _answered)
                name.Due = now + Settings.MinTtl;
            _log($"dns: handing {(_answered.Count == 1 ? _answered[0].Host + "'s" : $"{_answered.Count} names'")} {_answered.Sum(n => n.Addresses.Count)} address(es) on failed: {e.Message}; trying again in {Settings.MinTtl.TotalSeconds:0}s");
        }
        return _answered.Count;
    }

    /// <summary>A per-name sink: each name in turn; a name whose hand-over fails is logged and asked again after min_ttl, the rest go on.</summary>
    private async Task<int> HandOneByOneAsync(RefreshName sink, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var name in _answered)
        {
            try
            {
                await sink(name.Host, name.Addresses, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                name.Due = now + Settings.MinTtl;
                _log($"dns: handing {name.Host}'s {name.Addresses.Count} address(es) on failed: {e.Message}; trying again in {Settings.MinTtl.TotalSeconds:0}s");
            }
        }
        return _answered.Count;
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
        answer = Screened(name, answer, now);
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
        name.Answered = true;
        if (dropped > 0 && now >= name.QuietCapUntil)
        {
            name.QuietCapUntil = now + name.LastTtl;
            _log($"dns: {name.Host} has more than max_addresses_per_name ({Settings.MaxAddressesPerName}) addresses; {dropped} that would expire first were dropped");
        }
        return true;
    }

    /// <summary>
    /// The answer without the addresses a name may not open (loopback, link-local, ...: see AnswerScreen), logged once
    /// per name per TTL. An answer of only those counts as no answer: the name keeps its last addresses until they expire.
    /// Allocates only when an answer holds one (the steady state allocates nothing here).
    /// </summary>
    private DnsAnswer Screened(TrackedName name, DnsAnswer answer, DateTimeOffset now)
    {
        int refused = 0;
        for (int i = 0; i < answer.Addresses.Count; i++)
        {
            if (AnswerScreen.WhyRefused(answer.Addresses[i].Address) is not null)
                refused++;
        }
        if (refused == 0)
            return answer;
        var (kept, dropped) = AnswerScreen.Split(answer.Addresses, a => a.Address);
        if (now >= name.QuietRefusedUntil)
        {
            name.QuietRefusedUntil = now + name.LastTtl;
            _log($"dns: {name.Host} answered {AnswerScreen.Describe(dropped.Select(a => a.Address))} via {answer.Resolver}: not allowed, {AnswerScreen.Fix} "
                + "(a misconfigured or poisoned resolver, or DNS rebinding, answers like this)");
        }
        return answer with { Addresses = kept, Error = kept.Count == 0 ? "only addresses a name may not open" : answer.Error };
    }
}
