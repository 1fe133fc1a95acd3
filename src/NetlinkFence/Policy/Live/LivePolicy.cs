using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables.Monitoring;
using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Policy;

/// <summary>
/// A policy running in the kernel, for an agent that embeds the library instead of running the daemon: open and close
/// update windows, add and remove destinations of an egress entry, follow a DNS name, reload, read per-entry counters.
/// Every change is ONE transaction of allow-set element deletions and additions (never a table replace), checked
/// against the generation this object last saw (<see cref="CommitOptions.ExpectedGeneration"/>): when another writer
/// committed meanwhile, it re-reads the allow sets and tries once more, then fails with nothing applied. Expiries are
/// per-element kernel timeouts, so a window closes on time even when no process of ours runs. Only the elements in the
/// address region a change touches are rewritten (<see cref="AllowSetModel"/>), so its cost does not grow with the
/// table. Thread-safe: changes are serialized.
/// </summary>
public sealed partial class LivePolicy
{
    /// <summary>The egress allow sets, one per family (key <c>addr . inet_proto . inet_service</c>).</summary>
    internal const string AllowV4 = "allow_v4", AllowV6 = "allow_v6", InputV4 = "input_v4", InputV6 = "input_v6";

    private static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];

    private readonly NftablesConnection _nft;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeProvider _time;

    /// <summary>
    /// Whether a later expiry of an element the set holds is committed as a timeout update in place (kernel 6.10+)
    /// rather than a delete and a re-add; tests turn it off to run the older kernels' path on this one.
    /// </summary>
    internal bool RefreshesTimeoutsInPlace { get; set; } = NftablesConnection.KernelMovesElementTimeouts;
    private ResolvedPolicy _policy;
    private CompiledPolicy _compiled;
    private Dictionary<string, IReadOnlyList<IPAddress>> _names;
    private Dictionary<string, List<AllowEntry>> _entriesByHost;
    private Dictionary<(AddressFamily Family, GrantScope? Scope), AllowSetModel> _models = [];
    private Dictionary<string, NftSet> _scopedSets = [];
    private readonly Dictionary<(ServiceScope, AddressFamily), List<AllowGrant>> _parked = []; // timed grants of a cgroup that went away, until it is back
    // The windows this object opened (or carried through a restore or a replacing reload) and when each closes: what a
    // repair may put back. The kernel's elements cannot say who opened a window. Guarded by itself (read from any thread).
    private readonly Dictionary<string, DateTimeOffset> _opened = new(StringComparer.Ordinal);
    private uint _generation;
    private uint _ownership; // the attached table's owner|persist flags: a replace keeps them (an owned table stays owned)

    private LivePolicy(NftablesConnection connection, ResolvedPolicy policy, TimeProvider time)
    {
        _nft = connection;
        _time = time;
        _policy = policy;
        _compiled = PolicyCompiler.Compile(policy);
        _names = Names(policy);
        _entriesByHost = EntriesByHost(policy);
    }

    /// <summary>The policy the table runs (the one attached or last reloaded).</summary>
    public ResolvedPolicy Policy => _policy;

    /// <summary>The inet table's name.</summary>
    public string Table => _policy.Policy.Table;

    /// <summary>
    /// Attaches to the live table of <paramref name="policy"/> (applied before, e.g. by <see cref="PolicyApplier"/>):
    /// checks that its chains, rules and sets are this policy's (allow-set elements aside: windows and refreshed names
    /// change them) and rebuilds what the allow sets hold from one dump of the table. Throws
    /// <see cref="LivePolicyException"/> when there is no such table or it is another policy's.
    /// </summary>
    public static async Task<LivePolicy> AttachAsync(NftablesConnection connection, ResolvedPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(policy);
        return Attach(connection, policy, await ListAsync(connection, policy.Policy.Table, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Attaches to the table <paramref name="contents"/> lists (made by the caller with
    /// <see cref="NftablesConnection.ListTableAsync"/> on <paramref name="connection"/>), reading nothing itself: for a
    /// caller that reads the table once for several purposes, such as a monitor that also compares it with the policy
    /// and takes its counters and windows from the same listing (<see cref="ReadCounters(TableContents)"/>,
    /// <see cref="Windows(TableContents)"/>). The same checks as <see cref="AttachAsync"/>; the first change is
    /// generation-checked against the listing's generation.
    /// </summary>
    public static LivePolicy Attach(NftablesConnection connection, ResolvedPolicy policy, TableContents contents)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(policy);
        var live = new LivePolicy(connection, policy, TimeProvider.System);
        live.Load(live.Listing(contents), checkStructure: true);
        foreach (var (entry, until) in live.WindowsOpenNow())
            live.Opened(entry, until); // open when attached: taken as this object's
        return live;
    }

    /// <summary>
    /// The window entries of <paramref name="policy"/> that the inet table of its name holds open now, each with when it
    /// closes, whatever version of the policy made the table: only the allow sets are read, chains and rules are not
    /// compared (<see cref="AttachAsync"/> would refuse another version's table). For a restart with an edited policy,
    /// which replaces the table and so closes them, to carry its windows as <see cref="ReloadAsync"/> does. Empty when
    /// there is no such table.
    /// </summary>
    public static async Task<IReadOnlyList<(string Entry, DateTimeOffset Until)>> ReadOpenWindowsAsync(NftablesConnection connection, ResolvedPolicy policy,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(policy);
        var live = new LivePolicy(connection, policy, TimeProvider.System);
        try
        {
            await live.ReadAsync(checkStructure: false, cancellationToken).ConfigureAwait(false);
        }
        catch (LivePolicyException)
        {
            return []; // no table
        }
        return live.WindowsOpenNow();
    }

    /// <summary>The policy's window entries that the allow sets, as last read, hold open now, each with when it closes.</summary>
    private List<(string Entry, DateTimeOffset Until)> WindowsOpenNow()
    {
        var now = _time.GetUtcNow();
        var open = new List<(string, DateTimeOffset)>();
        foreach (var entry in _policy.Policy.Egress.Where(e => e.Window is not null))
            if (OpenUntil(entry.Name, now) is { } until)
                open.Add((entry.Name, until));
        return open;
    }

    /// <summary>
    /// The windows this object opened (<see cref="OpenWindowAsync"/>, or found open when it attached) and has not
    /// closed, with when each closes; a restore or a reload keeps them. A window another writer opened in the kernel
    /// since is not here: what <see cref="WindowsAsync"/> lists beyond these is not this object's doing.
    /// </summary>
    public IReadOnlyList<(string Entry, DateTimeOffset Until)> OpenedWindows
    {
        get
        {
            var now = _time.GetUtcNow();
            lock (_opened)
                return _opened.Where(w => w.Value > now).Select(w => (w.Key, w.Value)).ToList();
        }
    }

    /// <summary>Records that <paramref name="entry"/> is open until <paramref name="until"/> (never earlier than recorded: opening extends).</summary>
    private void Opened(string entry, DateTimeOffset until)
    {
        lock (_opened)
            _opened[entry] = _opened.TryGetValue(entry, out var known) && known > until ? known : until;
    }

    /// <summary>
    /// Opens window entry <paramref name="entry"/> for <paramref name="duration"/> (more than zero, at most its
    /// <c>window:</c>). Extends, never shortens: a window already open for longer keeps its expiry. Returns the window
    /// as this commit left it (no re-read: the change costs one small transaction whatever the table's size).
    /// </summary>
    public async Task<LiveWindow> OpenWindowAsync(string entry, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        var window = WindowEntry(entry);
        if (duration <= TimeSpan.Zero || duration > window.Window)
            throw new ArgumentOutOfRangeException(nameof(duration), duration,
                $"'{entry}' opens for more than 0s and at most its window, {WindowDuration.Format(window.Window!.Value)}");
        var until = DateTimeOffset.MinValue;
        await ChangeAsync(now => OpenPlan(window, until = now + duration, now), $"open {entry}", cancellationToken,
            onCommitted: () => Opened(window.Name, until)).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        return new LiveWindow(window, OpenUntil(window.Name, now) - now);
    }

    /// <summary>The grants that open <paramref name="window"/> until <paramref name="until"/>; none when it is open for longer already (never shortens).</summary>
    private IEnumerable<SetChange> OpenPlan(AllowEntry window, DateTimeOffset until, DateTimeOffset now)
    {
        if (OpenUntil(window.Name, now) is { } current && current >= until)
            return [];
        return Families.Select(f => new SetChange(f, EntryGrants(window, f, until), Held(window.Name, f)));
    }

    /// <summary>
    /// Closes window entry <paramref name="entry"/> now. Returns whether it was open: false when it was closed already
    /// (nothing to close), so a caller never reports a close that did not happen.
    /// </summary>
    public async Task<bool> CloseWindowAsync(string entry, CancellationToken cancellationToken = default)
    {
        var window = WindowEntry(entry);
        bool wasOpen = false;
        await ChangeAsync(now =>
        {
            // Judged on the attempt that commits (a generation conflict re-reads and plans again).
            wasOpen = OpenUntil(window.Name, now) is not null;
            return Families.Select(f => new SetChange(f, [], Held(window.Name, f)));
        }, $"close {entry}", cancellationToken, onCommitted: () => { lock (_opened) _opened.Remove(window.Name); }).ConfigureAwait(false);
        return wasOpen;
    }

    /// <summary>
    /// Every window entry with the time it stays open, read from the kernel's element expirations now, and the other
    /// entries whose elements let part of its traffic through (<see cref="LiveWindow.AlsoAllowedBy"/>).
    /// </summary>
    public async Task<IReadOnlyList<LiveWindow>> WindowsAsync(CancellationToken cancellationToken = default) =>
        Windows(await ListAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// <see cref="WindowsAsync"/> from <paramref name="contents"/>, a listing of this policy's table the caller made
    /// (<see cref="NftablesConnection.ListTableAsync"/>), rather than a read of its own; the remaining times count from now.
    /// </summary>
    public IReadOnlyList<LiveWindow> Windows(TableContents contents) => Windows(_policy, _names, Listing(contents), _time.GetUtcNow());

    /// <summary>
    /// The window entries of <paramref name="policy"/> as <paramref name="contents"/> (a listing of its table) holds them
    /// now, as <see cref="Windows(TableContents)"/> says them, without attaching: for a reader of the table only, such as
    /// a metrics exporter, which then pays neither the policy's compilation nor the modelling of every allow set. Throws
    /// <see cref="ArgumentException"/> for a listing of another table.
    /// </summary>
    public static IReadOnlyList<LiveWindow> Windows(ResolvedPolicy policy, TableContents contents)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return Windows(policy, Names(policy), Listing(policy, contents), DateTimeOffset.UtcNow);
    }

    private static List<LiveWindow> Windows(ResolvedPolicy policy, Dictionary<string, IReadOnlyList<IPAddress>> names, TableContents contents, DateTimeOffset now)
    {
        var windows = policy.Policy.Egress.Where(e => e.Window is not null).ToList();
        if (windows.Count == 0)
            return []; // no need to model every allow set (tens of ms at 10,000 entries)
        var held = HeldNow(contents, now);
        return windows.Select(e => Window(e, contents, now) with { AlsoAllowedBy = AllowedByOthers(policy, names, e, held) }).ToList();
    }

    /// <summary>
    /// Lets egress entry <paramref name="entry"/> reach <paramref name="network"/> too (its ports), for
    /// <paramref name="timeout"/> (the kernel removes it then) or until removed.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// <paramref name="network"/> is IPv6 and the running policy names no IPv6 peer (<see cref="CompiledPolicy.HasIPv6Peers"/>
    /// false): its table has no IPv6 neighbour discovery, so the destination could be allowed but never reached. Name an
    /// IPv6 peer in the policy and <see cref="ReloadAsync"/> it first.
    /// </exception>
    public Task AddDestinationAsync(string entry, IPNetwork network, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var allow = EgressEntry(entry);
        if (timeout is { } t && t <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeout), t, "a timeout is more than zero");
        var family = network.BaseAddress.AddressFamily;
        if (family == AddressFamily.InterNetworkV6 && !_compiled.HasIPv6Peers)
            throw new InvalidOperationException($"the running policy names no IPv6 peer, so table inet {Table} has no IPv6 neighbour discovery and {network} "
                + "could not be reached; name an IPv6 peer in the policy and reload it first");
        DateTimeOffset? until = null;
        return ChangeAsync(now => [new SetChange(family, PortGrants(_policy, allow, network, until = now + timeout), [])], $"add {network} to {entry}", cancellationToken,
            onCommitted: () => RecordAdded(allow.Name, network, until));
    }

    /// <summary>Stops egress entry <paramref name="entry"/> from reaching <paramref name="network"/> (all of it, whatever gave it).</summary>
    public Task RemoveDestinationAsync(string entry, IPNetwork network, CancellationToken cancellationToken = default)
    {
        var allow = EgressEntry(entry);
        var family = network.BaseAddress.AddressFamily;
        return ChangeAsync(_ => [new SetChange(family, [], Overlapping(allow.Name, network, family, []))], $"remove {network} from {entry}", cancellationToken,
            onCommitted: () => RecordRemoved(allow.Name, network));
    }

    /// <summary>
    /// The DNS refresher's call: <paramref name="host"/> now resolves to <paramref name="addresses"/>, each allowed until
    /// its expiry (TTL + grace). Every egress entry that names the host gets them (a window entry only while open, and
    /// no longer than the window); an address the answer no longer holds is left to expire on its own timeout.
    /// </summary>
    public Task RefreshNameAsync(string host, IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> addresses, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(addresses);
        if (!NamesHost(host))
            throw new ArgumentException($"no egress entry of the policy names '{host}'", nameof(host));
        return RefreshNamesAsync([(host, addresses)], cancellationToken);
    }

    /// <summary>
    /// <see cref="RefreshNameAsync"/> for many names in ONE transaction (a refresh round of the DNS refresher): the
    /// kernel sees one commit per round, not one per name. Names no egress entry names are skipped (a name used only
    /// in <c>input</c> is resolved when the table is applied, not refreshed).
    /// </summary>
    /// <remarks>
    /// An IPv6 address given to a policy compiled without IPv6 peers (<see cref="CompiledPolicy.HasIPv6Peers"/> false) is
    /// allowed but cannot be reached: that table has no IPv6 neighbour discovery. Compile the policy with it and apply
    /// (or <see cref="ReloadAsync"/>) first; <c>netlinkfence run</c> reloads by itself when a followed name gains one.
    /// </remarks>
    public async Task RefreshNamesAsync(IReadOnlyList<(string Host, IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> Addresses)> names,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0)
            return;
        await ChangeAsync(now => RefreshPlan(names, now, RefreshesTimeoutsInPlace),
            names.Count == 1 ? $"refresh {names[0].Host}" : $"refresh {names.Count} names", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The grants a refresh of <paramref name="names"/> adds and removes. With <paramref name="moveInPlace"/>, an address
    /// the set holds only has its element's expiry moved (<see cref="AllowSetModel.TryMoveExpiry"/>), with no grant made.
    /// </summary>
    private IEnumerable<SetChange> RefreshPlan(IReadOnlyList<(string Host, IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> Addresses)> names,
        DateTimeOffset now, bool moveInPlace)
    {
        // One add and one remove list per family, filled in place: a round of 1,000 names is thousands of grants.
        List<AllowGrant>[] add = [[], []], remove = [[], []];
        var held = new List<AllowGrant>();
        var windowEnds = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
        foreach (var (host, addresses) in names)
        {
            if (!_entriesByHost.TryGetValue(host, out var entries))
                continue;
            if (!_names.TryGetValue(host, out var known) || !SameAddresses(known, addresses))
                _names[host] = addresses.Select(a => a.Address).Distinct().ToList(); // windows opened later use the latest answer
            foreach (var entry in entries)
            {
                DateTimeOffset? windowEnd = null;
                if (entry.Window is not null && !windowEnds.TryGetValue(entry.Name, out windowEnd))
                    windowEnds[entry.Name] = windowEnd = OpenUntil(entry.Name, now);
                if (entry.Window is not null && windowEnd is null)
                    continue; // a closed window stays closed
                for (int i = 0; i < addresses.Count; i++) // not foreach: no boxed enumerator per entry and name
                {
                    var (address, expires) = addresses[i];
                    if (expires <= now)
                        continue;
                    var until = windowEnd is { } end && end < expires ? end : expires;
                    // The steady state (the address is held, only its expiry moves): no grant or plan made for it.
                    if (moveInPlace && entry.By.Count == 0 && _models.TryGetValue((address.AddressFamily, null), out var unscoped)
                        && unscoped.TryMoveExpiry(entry.Name, address, entry.Tcp, entry.Udp, until, now))
                        continue;
                    var network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
                    // The address's earlier grants of this entry, except a permanent one a literal destination gives.
                    int family = Array.IndexOf(Families, address.AddressFamily);
                    held.Clear();
                    foreach (var g in Overlapping(entry.Name, network, address.AddressFamily, held))
                        if (g.Network == network && (g.Expires is not null || !IsLiteral(entry, network)))
                            remove[family].Add(g);
                    PortGrants(_policy, entry, network, until, add[family]);
                }
            }
        }
        return Families.Select((f, i) => new SetChange(f, add[i], remove[i]));
    }

    /// <summary>Whether <paramref name="known"/> holds exactly the addresses of <paramref name="answer"/> (a name's answer mostly repeats: no copy then).</summary>
    private static bool SameAddresses(IReadOnlyList<IPAddress> known, IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> answer)
    {
        // Index loops: foreach over the interfaces would box an enumerator per call.
        for (int i = 0; i < answer.Count; i++)
            if (!Contains(known, answer[i].Address))
                return false;
        for (int k = 0; k < known.Count; k++)
        {
            bool found = false;
            for (int i = 0; i < answer.Count && !found; i++)
                found = answer[i].Address.Equals(known[k]);
            if (!found)
                return false;
        }
        return true;

        static bool Contains(IReadOnlyList<IPAddress> list, IPAddress address)
        {
            for (int i = 0; i < list.Count; i++)
                if (list[i].Equals(address))
                    return true;
            return false;
        }
    }

    /// <summary>Whether an egress entry names <paramref name="host"/> (so <see cref="RefreshNameAsync"/> has somewhere to put its addresses).</summary>
    public bool NamesHost(string host) => _entriesByHost.ContainsKey(host);

    /// <summary>
    /// Brings the table to <paramref name="next"/> in one transaction: element changes when only destinations, ports or
    /// windows differ, otherwise one atomic replace of the table whose allow sets already hold what runs. Either way,
    /// open windows of entries that stay window entries stay open (no longer than their new <c>window:</c>), and timed
    /// grants (added destinations, refreshed names) stay until they expire while <paramref name="next"/> still allows
    /// them (their entry, ports and scope).
    /// </summary>
    public async Task<ReloadResult> ReloadAsync(ResolvedPolicy next, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(next);
        var compiled = PolicyCompiler.Compile(next);
        bool sameShape = next.Policy.Table == Table
            && TableDiff.Compare(WithoutLiveElements(_compiled.ToExpectedContents()), WithoutLiveElements(compiled.ToExpectedContents())).Count == 0;
        var nextNames = Names(next);
        if (!sameShape)
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await ReadIfStaleAsync(cancellationToken).ConfigureAwait(false); // what is open is what the kernel has now
                var now = _time.GetUtcNow();
                var open = next.Policy.Egress.Where(e => e.Window is not null).Select(e => (Entry: e, Until: StaysOpenUntil(e, now)))
                    .Where(w => w.Until is not null).ToList();
                var carried = CarriedGrants(next, now);
                var replaced = await ReplaceAsync(compiled, Carry, onCommitted: () => Switch(next, compiled), cancellationToken).ConfigureAwait(false);
                return new ReloadResult(ReloadKind.Replace, 0, 0, 0, replaced);

                IEnumerable<IEnumerable<SetChange>> Carry(DateTimeOffset at)
                {
                    foreach (var (entry, until) in open)
                    {
                        var end = WindowEnd(entry, until!.Value, at);
                        if (end > at)
                            yield return Families.Select(f => new SetChange(f, EntryGrants(next, nextNames, entry, f, end), []));
                    }
                    yield return Families.Select(f => new SetChange(f, carried.Where(g => g.Network.BaseAddress.AddressFamily == f), []));
                }
            }
            finally
            {
                _gate.Release();
            }
        }
        var (commit, removed, added, retimed) = await ChangeAsync(now => Families.Select(f =>
        {
            var held = _models.Where(m => m.Key.Family == f).SelectMany(m => m.Value.Grants).ToList();
            // The permanent grants exactly as apply compiles them; open windows re-granted with their expiry.
            var want = compiled.Grants.Where(g => g.Network.BaseAddress.AddressFamily == f).ToList();
            foreach (var entry in next.Policy.Egress)
            {
                if (entry.Window is not null && StaysOpenUntil(entry, now) is { } until)
                    want.AddRange(EntryGrants(next, nextNames, entry, f, WindowEnd(entry, until, now)));
            }
            want.AddRange(CarriedGrants(next, now).Where(g => g.Network.BaseAddress.AddressFamily == f));
            return new SetChange(f, want, held);
        }), "reload", cancellationToken, onCommitted: () => Switch(next, compiled)).ConfigureAwait(false);
        return commit is null ? new ReloadResult(ReloadKind.Unchanged, 0, 0, 0, null) : new ReloadResult(ReloadKind.Elements, removed, added, retimed, commit);
    }

    /// <summary>
    /// Until when window entry <paramref name="next"/> of a reloaded policy stays open: as it is open now, when it is a
    /// window of the running policy too; null otherwise. An entry that becomes a window starts closed, as after an apply:
    /// its timed grants as a plain entry (a refreshed name's addresses) are not an open window.
    /// </summary>
    private DateTimeOffset? StaysOpenUntil(AllowEntry next, DateTimeOffset now) =>
        _policy.Policy.Egress.Any(e => e.Name == next.Name && e.Window is not null) ? OpenUntil(next.Name, now) : null;

    /// <summary>
    /// The timed grants of plain entries (added destinations, refreshed names) that <paramref name="next"/> still allows:
    /// its entry has no window, the ports are among the entry's, the scope is one the entry is bound to.
    /// </summary>
    private List<AllowGrant> CarriedGrants(ResolvedPolicy next, DateTimeOffset now)
    {
        var plain = next.Policy.Egress.Where(e => e.Window is null).ToDictionary(e => e.Name, StringComparer.Ordinal);
        return _models.Values.SelectMany(m => m.Grants).Where(g => g.Expires > now && plain.TryGetValue(g.Entry, out var entry) && Allows(entry, g)).ToList();

        bool Allows(AllowEntry entry, AllowGrant grant) =>
            (grant.Protocol == ProtocolType.Tcp ? entry.Tcp : grant.Protocol == ProtocolType.Udp ? entry.Udp : [])
                .Any(p => p.First <= grant.Ports.First && grant.Ports.Last <= p.Last)
            && (grant.Scope is null ? entry.By.Count == 0 : next.ScopesOf(entry).Any(b => b.Current == grant.Scope));
    }

    /// <summary>Re-reads the models when another writer committed since they were read (a table that is gone leaves them empty).</summary>
    private async Task ReadIfStaleAsync(CancellationToken cancellationToken)
    {
        if (await _nft.GetGenerationAsync(cancellationToken).ConfigureAwait(false) == _generation)
            return;
        try
        {
            await ReadAsync(checkStructure: false, cancellationToken).ConfigureAwait(false);
        }
        catch (LivePolicyException)
        {
            _models = [];
        }
    }

    /// <summary>
    /// Packets and bytes per allow entry (egress, then input, in policy order), summed from the allow sets' per-element
    /// counters as the kernel lists them now, and how many elements let each entry's traffic through
    /// (<see cref="EntryCounters.Elements"/>: 0 when it allows nothing now).
    /// </summary>
    public async Task<IReadOnlyList<EntryCounters>> ReadCountersAsync(CancellationToken cancellationToken = default) =>
        ReadCounters(await ListAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// <see cref="ReadCountersAsync"/> from <paramref name="contents"/>, a listing of this policy's table the caller made
    /// (<see cref="NftablesConnection.ListTableAsync"/>), rather than a read of its own.
    /// </summary>
    public IReadOnlyList<EntryCounters> ReadCounters(TableContents contents) => ReadCounters(_policy, Listing(contents));

    /// <summary>
    /// The per-entry counters of <paramref name="policy"/> as <see cref="ReadCounters(TableContents)"/> reads them from
    /// <paramref name="contents"/> (a listing of its table), without attaching: for a reader of the table only, such as
    /// a metrics exporter. Throws <see cref="ArgumentException"/> for a listing of another table.
    /// </summary>
    public static IReadOnlyList<EntryCounters> ReadCounters(ResolvedPolicy policy, TableContents contents)
    {
        ArgumentNullException.ThrowIfNull(policy);
        Listing(policy, contents);
        var egress = new Dictionary<string, (ulong Packets, ulong Bytes, int Elements)>(StringComparer.Ordinal);
        var input = new Dictionary<string, (ulong Packets, ulong Bytes, int Elements)>(StringComparer.Ordinal);
        var contributors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var set in contents.Sets)
        {
            var sums = IsEgressAllowSet(set.Set.Name) ? egress : set.Set.Name is InputV4 or InputV6 ? input : null;
            if (sums is null)
                continue;
            foreach (var element in set.Elements)
            {
                // Counted for the entry its comment names (the kernel has one counter per element); held for each contributor.
                if (element.Comment is { } entry && element.Counter is { } counter)
                {
                    var (packets, bytes, held) = sums.GetValueOrDefault(entry);
                    sums[entry] = (packets + counter.Packets, bytes + counter.Bytes, held);
                }
                contributors.Clear();
                if (element.UserData is { } userData)
                    foreach (var (contributor, _) in GrantUserData.Decode(userData.Span, elementExpires: null))
                        contributors.Add(contributor);
                if (contributors.Count == 0 && element.Comment is { } named) // added by hand, with a comment only
                    contributors.Add(named);
                foreach (string contributor in contributors)
                {
                    var (packets, bytes, held) = sums.GetValueOrDefault(contributor);
                    sums[contributor] = (packets, bytes, held + 1);
                }
            }
        }
        return policy.Policy.Egress.Select(e => Counters(e, false, egress))
            .Concat(policy.Policy.Input.Select(e => Counters(e, true, input))).ToList();

        static EntryCounters Counters(AllowEntry entry, bool isInput, Dictionary<string, (ulong Packets, ulong Bytes, int Elements)> sums)
        {
            var (packets, bytes, elements) = sums.GetValueOrDefault(entry.Name);
            return new EntryCounters(entry, isInput, packets, bytes) { Elements = elements };
        }
    }

    /// <summary>
    /// The changes to this table as nf_tables reports them (decoded monitor events, each commit ending with its
    /// <see cref="NftablesChangeKind.Committed"/> boundary; losses as <see cref="NftablesChangeKind.Lost"/>), until
    /// <paramref name="cancellationToken"/> is cancelled. <paramref name="options"/> names the network namespace (the
    /// one the attached connection works in).
    /// </summary>
    public async IAsyncEnumerable<NftablesChange> ChangesAsync(NftablesConnectionOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var monitor = await NftablesMonitor.OpenAsync(options).ConfigureAwait(false);
        await foreach (var change in monitor.ReadChangesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (change.Kind is NftablesChangeKind.Committed or NftablesChangeKind.Lost || change.TableName == Table)
                yield return change;
        }
    }

    // ---- the one change path ---------------------------------------------------------------------------------

    private async Task<(CommitResult? Commit, int Removed, int Added, int Retimed)> ChangeAsync(
        Func<DateTimeOffset, IEnumerable<SetChange>> plan,
        string what, CancellationToken cancellationToken, Action? onCommitted = null)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    var now = _time.GetUtcNow();
                    var tx = new Transaction();
                    int removed = 0, added = 0, retimed = 0;
                    // Deletions first in the batch: a re-bound cgroup's old elements go before its new ones are added.
                    var deletes = new List<(NftSet Set, IReadOnlyList<SetElement> Elements)>();
                    var inserts = new List<(NftSet Set, IReadOnlyList<SetElement> Elements)>();
                    var retimes = new List<(NftSet Set, RetimedElements Elements)>();
                    var changed = ChangeModels(plan(now), now);
                    foreach (var (model, delta) in changed.Values)
                    {
                        if (delta.Remove.Count > 0)
                            deletes.Add((model.Set, delta.Remove));
                        if (delta.Add.Count > 0)
                            inserts.Add((model.Set, delta.Add));
                        // Additions of elements the set holds: only their timeouts move (see ElementDelta.Refresh).
                        if (delta.Refresh.Count > 0)
                            retimes.Add((model.Set, delta.Refresh));
                        retimed += delta.Refresh.Count;
                        removed += delta.Remove.Count;
                        added += delta.Add.Count;
                    }
                    // Models whose element timeouts moved in place (TryMoveExpiry) and that nothing else changed.
                    foreach (var (key, model) in _models)
                    {
                        if (!model.HasPendingRefresh || changed.ContainsKey(key))
                            continue;
                        var refreshed = model.Change([], [], now, RefreshesTimeoutsInPlace).Refresh;
                        if (refreshed.Count > 0)
                            retimes.Add((model.Set, refreshed));
                        retimed += refreshed.Count;
                    }
                    foreach (var (set, elements) in deletes)
                        tx.DeleteElements(set, elements, what);
                    foreach (var (set, elements) in inserts)
                        tx.AddElements(set, elements, what);
                    foreach (var (set, moved) in retimes)
                        tx.RetimeElements(set, moved.Elements, moved.Timeouts, what);
                    if (tx.Count == 0)
                    {
                        // Nothing to do by the model, which is only as current as the generation it was read at: another
                        // writer (a replace of the whole table, say) may have taken away what the model still holds.
                        if (attempt == 1 && await _nft.GetGenerationAsync(cancellationToken).ConfigureAwait(false) != _generation)
                        {
                            await ReadAsync(checkStructure: false, cancellationToken).ConfigureAwait(false);
                            continue;
                        }
                        onCommitted?.Invoke();
                        return (null, 0, 0, 0);
                    }
                    var result = await _nft.CommitAsync(tx, new CommitOptions { ExpectedGeneration = _generation }, cancellationToken).ConfigureAwait(false);
                    // Our commit made exactly the expected generation + 1 (the kernel skips 0 on wrap).
                    _generation = unchecked(_generation + 1) is 0 ? 1 : unchecked(_generation + 1);
                    onCommitted?.Invoke();
                    return (result, removed, added, retimed);
                }
                catch (TransactionRejectedException e) when (e.IsGenerationConflict)
                {
                    // Another writer committed since we last read: what the sets hold may differ from our model.
                    await ReadAsync(checkStructure: false, cancellationToken).ConfigureAwait(false);
                    if (attempt >= 2)
                        throw new LivePolicyException(
                            $"table inet {Table} was changed by another writer twice while '{what}' was committed (generation conflict); nothing of it was applied, try again", e);
                }
                catch
                {
                    await RecoverModelsAsync().ConfigureAwait(false);
                    throw;
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The model may hold a change the kernel refused: rebuilds it from what the kernel has (when it cannot be read
    /// either, the next change fails on the generation check and reads again).
    /// </summary>
    private async Task RecoverModelsAsync()
    {
        try
        {
            await ReadAsync(checkStructure: false, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            _generation = 0; // never a current generation: forces a re-read before the next commit
        }
    }

    /// <summary>
    /// Applies <paramref name="plan"/> to the models: per set and scope value (each model holds one family and scope
    /// and changes its own elements), the model and the element changes for one transaction.
    /// </summary>
    private Dictionary<(AddressFamily Family, GrantScope? Scope), (AllowSetModel Model, ElementDelta Delta)> ChangeModels(IEnumerable<SetChange> plan, DateTimeOffset now)
    {
        var changes = new Dictionary<(AddressFamily Family, GrantScope? Scope), (List<AllowGrant> Add, List<AllowGrant> Remove)>();
        foreach (var c in plan)
        {
            foreach (var g in c.Add)
                Grouped(changes, c.Family, g).Add.Add(g);
            foreach (var g in c.Remove)
                Grouped(changes, c.Family, g).Remove.Add(g);
        }
        var changed = new Dictionary<(AddressFamily, GrantScope?), (AllowSetModel, ElementDelta)>(changes.Count);
        foreach (var ((family, scope), (add, remove)) in changes)
        {
            var model = Model(family, scope);
            changed[(family, scope)] = (model, model.Change(add, remove, now, RefreshesTimeoutsInPlace));
        }
        return changed;
    }

    private static (List<AllowGrant> Add, List<AllowGrant> Remove) Grouped(
        Dictionary<(AddressFamily, GrantScope?), (List<AllowGrant> Add, List<AllowGrant> Remove)> changes, AddressFamily family, AllowGrant grant)
    {
        if (!changes.TryGetValue((family, grant.Scope), out var lists))
            changes[(family, grant.Scope)] = lists = ([], []);
        return lists;
    }

    /// <summary>Grants to add to and remove from one family's allow set.</summary>
    private readonly record struct SetChange(AddressFamily Family, IEnumerable<AllowGrant> Add, IEnumerable<AllowGrant> Remove);

    /// <summary>Lists the table and rebuilds the models from it (and, with <paramref name="checkStructure"/>, checks it is this policy's).</summary>
    private async Task<TableContents> ReadAsync(bool checkStructure, CancellationToken cancellationToken)
    {
        var contents = await ListAsync(cancellationToken).ConfigureAwait(false);
        Load(contents, checkStructure);
        return contents;
    }

    /// <summary>Rebuilds the models from <paramref name="contents"/> (and, with <paramref name="checkStructure"/>, checks it is this policy's).</summary>
    private void Load(TableContents contents, bool checkStructure)
    {
        if (checkStructure)
        {
            var differences = TableDiff.Compare(WithoutLiveElements(_compiled.ToExpectedContents()), WithoutLiveElements(contents));
            if (differences.Count > 0)
                throw new LivePolicyException($"table inet {Table} is not this policy's ({differences.Count} difference(s), first: {differences[0]}); apply the policy first");
            // Owned (by this connection: any other could not change it): a replace re-creates it owned, persist kept.
            _ownership = !contents.Table.IsOwned ? 0
                : contents.Table.Flags & (NetlinkFence.Nftables.Table.OwnerFlag | NetlinkFence.Nftables.Table.PersistFlag);
        }
        LoadModels(contents, _time.GetUtcNow());
        _generation = contents.Generation;
    }

    /// <summary>The models of the allow sets <paramref name="contents"/> holds (a listing, or the policy's own expected table).</summary>
    private void LoadModels(TableContents contents, DateTimeOffset now)
    {
        var models = new Dictionary<(AddressFamily, GrantScope?), AllowSetModel>();
        var scopedSets = new Dictionary<string, NftSet>(StringComparer.Ordinal);
        foreach (var set in contents.Sets)
        {
            if (set.Set.Name is AllowV4 or AllowV6)
                models[(set.Set.Name == AllowV4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6, null)] = AllowSetModel.FromKernel(set.Set, set.Elements, now);
            else if (ScopedSetFamily(set.Set.Name) is { } family)
            {
                scopedSets[set.Set.Name] = set.Set;
                foreach (var (scope, model) in AllowSetModel.FromKernelByScope(set.Set, set.Elements, now))
                    models[(family, scope)] = model;
            }
        }
        _models = models;
        _scopedSets = scopedSets;
    }

    private Task<TableContents> ListAsync(CancellationToken cancellationToken) => ListAsync(_nft, Table, cancellationToken);

    private static async Task<TableContents> ListAsync(NftablesConnection nft, string table, CancellationToken cancellationToken) =>
        await nft.ListTableAsync(NftFamily.Inet, table, cancellationToken).ConfigureAwait(false)
        ?? throw new LivePolicyException($"there is no table inet {table} (removed, or never applied): apply the policy first");

    /// <summary><paramref name="contents"/>, when it lists this policy's table: a listing of another table is the caller's mistake.</summary>
    private TableContents Listing(TableContents contents) => Listing(_policy, contents);

    private static TableContents Listing(ResolvedPolicy policy, TableContents contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        string table = policy.Policy.Table;
        if (contents.Table.Family != NftFamily.Inet || contents.Table.Name != table)
            throw new ArgumentException($"the listing is of table {contents.Table.Family.ToNftName()} {contents.Table.Name}, not of this policy's table inet {table}", nameof(contents));
        return contents;
    }

    private void Switch(ResolvedPolicy next, CompiledPolicy compiled)
    {
        KeepAddedThrough(next, _time.GetUtcNow());
        _policy = next;
        _compiled = compiled;
        _names = Names(next);
        _entriesByHost = EntriesByHost(next);
        // Windows stay recorded while their entry is a window entry, no longer than its (new) window from now.
        var now = _time.GetUtcNow();
        var windows = next.Policy.Egress.Where(e => e.Window is not null).ToDictionary(e => e.Name, StringComparer.Ordinal);
        lock (_opened)
        {
            foreach (var (name, until) in _opened.ToList())
            {
                if (windows.TryGetValue(name, out var entry))
                    _opened[name] = WindowEnd(entry, until, now);
                else
                    _opened.Remove(name);
            }
        }
    }

    // ---- windows ---------------------------------------------------------------------------------------------

    /// <summary>
    /// How long the kernel keeps <paramref name="entry"/> open: the longest-lived of its elements, each the earlier of the
    /// element's own expiration and the entry's expiry in the element's userdata (an element shared with a permanent
    /// entry has no timeout but still closes for this one).
    /// </summary>
    private static LiveWindow Window(AllowEntry entry, TableContents contents, DateTimeOffset now)
    {
        TimeSpan? remaining = null;
        foreach (var set in contents.Sets.Where(s => IsEgressAllowSet(s.Set.Name)))
        {
            foreach (var element in set.Elements)
            {
                var contributors = element.UserData is { } userData ? GrantUserData.Decode(userData.Span, now + element.Expiration) : [];
                TimeSpan? left = null;
                foreach (var (name, expires) in contributors)
                {
                    if (name == entry.Name && expires is { } e && e > now)
                        left = Max(left, e - now);
                }
                if (contributors.Count == 0 && element.Comment == entry.Name)
                    left = element.Expiration;
                if (left is { } l && element.Expiration is { } kernel && kernel < l)
                    left = kernel;
                remaining = Max(remaining, left);
            }
        }
        return new LiveWindow(entry, remaining);

        static TimeSpan? Max(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : a > b ? a : b;
    }

    /// <summary>Every grant the allow sets of <paramref name="contents"/> hold at <paramref name="now"/> (any entry, any scope), by family.</summary>
    private static List<(AddressFamily Family, AllowGrant Grant)> HeldNow(TableContents contents, DateTimeOffset now)
    {
        var held = new List<(AddressFamily, AllowGrant)>();
        foreach (var set in contents.Sets)
        {
            bool unscoped = set.Set.Name is AllowV4 or AllowV6;
            if ((unscoped ? set.Set.Name == AllowV4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6 : ScopedSetFamily(set.Set.Name)) is not { } family)
                continue; // not an allow set
            IEnumerable<AllowSetModel> models = unscoped ? [AllowSetModel.FromKernel(set.Set, set.Elements, now)]
                : AllowSetModel.FromKernelByScope(set.Set, set.Elements, now).Values;
            foreach (var model in models)
                foreach (var grant in model.Grants)
                    if (grant.Expires is null || grant.Expires > now)
                        held.Add((family, grant));
        }
        return held;
    }

    /// <summary>
    /// The other entries among <paramref name="held"/> (permanent entries, open windows, followed names) that let part of
    /// <paramref name="entry"/>'s traffic through: the same protocol, overlapping ports and networks, and a scope that
    /// takes in some of the entry's processes. A closed window does not close what they allow.
    /// </summary>
    private static List<string> AllowedByOthers(ResolvedPolicy policy, Dictionary<string, IReadOnlyList<IPAddress>> names, AllowEntry entry,
        List<(AddressFamily Family, AllowGrant Grant)> held)
    {
        var others = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var family in Families)
        {
            foreach (var mine in EntryGrants(policy, names, entry, family, expires: null))
            {
                foreach (var (heldFamily, other) in held)
                {
                    if (heldFamily == family && other.Entry != entry.Name && other.Protocol == mine.Protocol && other.Ports.Overlaps(mine.Ports)
                        && (other.Network.Contains(mine.Network.BaseAddress) || mine.Network.Contains(other.Network.BaseAddress))
                        && (other.Scope is null || mine.Scope is null || other.Scope == mine.Scope))
                        others.Add(other.Entry);
                }
            }
        }
        return [.. others];
    }

    /// <summary><paramref name="until"/>, but no later than window entry <paramref name="entry"/>'s <c>window:</c> from <paramref name="now"/>.</summary>
    private static DateTimeOffset WindowEnd(AllowEntry entry, DateTimeOffset until, DateTimeOffset now) =>
        until < now + entry.Window!.Value ? until : now + entry.Window!.Value;

    /// <summary>When the open window of <paramref name="entry"/> closes, as the model holds it; null when closed.</summary>
    private DateTimeOffset? OpenUntil(string entry, DateTimeOffset now)
    {
        DateTimeOffset? until = null;
        foreach (var model in _models.Values)
            foreach (var grant in model.Grants)
                if (grant.Entry == entry && grant.Expires is { } e && e > now && (until is null || e > until))
                    until = e;
        return until;
    }

    // ---- grants ----------------------------------------------------------------------------------------------

    private IEnumerable<AllowGrant> EntryGrants(AllowEntry entry, AddressFamily family, DateTimeOffset? expires) =>
        EntryGrants(_policy, _names, entry, family, expires);

    /// <summary>The scopes an entry's grants get now: one per bound <c>by:</c> item; none while all are absent; [null] without <c>by:</c>.</summary>
    private static GrantScope?[] ScopesOf(ResolvedPolicy policy, AllowEntry entry) =>
        entry.By.Count == 0 ? Unscoped : policy.ScopesOf(entry).Where(b => b.Current is not null).Select(b => b.Current).Distinct().ToArray();

    private static readonly GrantScope?[] Unscoped = [null];

    /// <summary>What an egress entry allows in one family: each destination network (names as resolved) on each port range.</summary>
    private static IEnumerable<AllowGrant> EntryGrants(ResolvedPolicy policy, Dictionary<string, IReadOnlyList<IPAddress>> names, AllowEntry entry,
        AddressFamily family, DateTimeOffset? expires)
    {
        foreach (var peer in entry.Peers)
        {
            var networks = peer.HostName is { } host
                ? (names.GetValueOrDefault(host) ?? []).Select(a => new IPNetwork(a, a.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
                : policy.NetworksOf(peer);
            foreach (var network in networks.Where(n => n.BaseAddress.AddressFamily == family))
                foreach (var grant in PortGrants(policy, entry, network, expires))
                    yield return grant;
        }
    }

    private static List<AllowGrant> PortGrants(ResolvedPolicy policy, AllowEntry entry, IPNetwork network, DateTimeOffset? expires) =>
        PortGrants(policy, entry, network, expires, []);

    /// <summary>The grants into <paramref name="into"/> (a refresh round adds thousands: no iterator or closure per address).</summary>
    private static List<AllowGrant> PortGrants(ResolvedPolicy policy, AllowEntry entry, IPNetwork network, DateTimeOffset? expires, List<AllowGrant> into)
    {
        foreach (var scope in ScopesOf(policy, entry))
        {
            for (int i = 0; i < entry.Tcp.Count; i++) // index loops: foreach over the lists would box their enumerators
                into.Add(new AllowGrant(entry.Name, network, ProtocolType.Tcp, entry.Tcp[i], expires, scope));
            for (int i = 0; i < entry.Udp.Count; i++)
                into.Add(new AllowGrant(entry.Name, network, ProtocolType.Udp, entry.Udp[i], expires, scope));
        }
        return into;
    }

    /// <summary>Every grant the model holds for <paramref name="entry"/> in <paramref name="family"/>.</summary>
    private List<AllowGrant> Held(string entry, AddressFamily family) =>
        _models.Where(m => m.Key.Family == family).SelectMany(m => m.Value.Grants).Where(g => g.Entry == entry).ToList();

    /// <summary>The entry's grants overlapping <paramref name="network"/> in every model of the family (every scope value), clipped to it, into <paramref name="found"/>.</summary>
    private List<AllowGrant> Overlapping(string entry, IPNetwork network, AddressFamily family, List<AllowGrant> found)
    {
        foreach (var (key, model) in _models)
            if (key.Family == family)
                model.GrantsOverlapping(entry, network, found);
        return found;
    }

    private bool IsLiteral(AllowEntry entry, IPNetwork network) =>
        entry.Peers.Any(p => p.Network is { } n && n.Contains(network.BaseAddress));

    private AllowSetModel Model(AddressFamily family, GrantScope? scope)
    {
        if (_models.TryGetValue((family, scope), out var model))
            return model;
        string name = scope is { } s ? PolicyCompiler.ScopedAllowSet(family, s.IsCgroup) : family == AddressFamily.InterNetwork ? AllowV4 : AllowV6;
        if (scope is null || !_scopedSets.TryGetValue(name, out var set))
            throw new LivePolicyException($"table inet {Table} has no set {name}");
        // A scope value the set holds no element of yet (a unit that started, a window of a scoped entry).
        return _models[(family, scope)] = new AllowSetModel(set, [], scope);
    }

    /// <summary>The family of a scoped allow set's name (<c>allow_cgroup_v4</c>, <c>allow_user_v6</c>), or null for any other set.</summary>
    private static AddressFamily? ScopedSetFamily(string name) =>
        Families.Select(f => (AddressFamily?)f).FirstOrDefault(f => name == PolicyCompiler.ScopedAllowSet(f!.Value, true) || name == PolicyCompiler.ScopedAllowSet(f!.Value, false));

    /// <summary>Whether <paramref name="name"/> is an egress allow set, scoped or not (its elements change while the policy runs).</summary>
    internal static bool IsEgressAllowSet(string name) => name is AllowV4 or AllowV6 || ScopedSetFamily(name) is not null;

    private AllowEntry EgressEntry(string entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return _policy.Policy.Egress.FirstOrDefault(e => e.Name == entry)
            ?? throw new ArgumentException($"the policy has no egress entry '{entry}'", nameof(entry));
    }

    private AllowEntry WindowEntry(string entry)
    {
        var found = EgressEntry(entry);
        return found.Window is null ? throw new ArgumentException($"'{entry}' has no 'window:'; it is open permanently, not a window", nameof(entry)) : found;
    }

    /// <summary>The egress entries naming each host (a refresh round looks each name up once, not every entry).</summary>
    private static Dictionary<string, List<AllowEntry>> EntriesByHost(ResolvedPolicy policy)
    {
        var byHost = new Dictionary<string, List<AllowEntry>>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in policy.Policy.Egress)
            foreach (var host in entry.Peers.Select(p => p.HostName).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase))
                (byHost.TryGetValue(host, out var list) ? list : byHost[host] = []).Add(entry);
        return byHost;
    }

    private static Dictionary<string, IReadOnlyList<IPAddress>> Names(ResolvedPolicy policy) =>
        policy.Names.ToDictionary(n => n.Key, n => n.Value.Addresses, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The table without the elements that change while it runs: the allow sets' (windows, DNS refreshes) and the
    /// audit set's (a kernel-timed audit that <c>learn --audit</c> started is the table's state, not another policy).
    /// </summary>
    internal static TableContents WithoutLiveElements(TableContents contents) =>
        contents with { Sets = contents.Sets.Select(s => IsEgressAllowSet(s.Set.Name) || s.Set.Name is AuditMode.SetName ? s with { Elements = [] } : s).ToList() };
}
