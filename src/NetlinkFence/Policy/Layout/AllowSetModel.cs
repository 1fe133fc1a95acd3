using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using NetlinkFence.Nftables;

namespace NetlinkFence.Policy.Layout;

/// <summary>
/// The elements of one allow set (<c>allow_v4</c>, <c>input_v6</c>, ...: key <c>addr . inet_proto . inet_service</c>,
/// flags interval|timeout) as a function of the grants it holds, for one address family. Overlapping grants are
/// planned into disjoint elements (<see cref="ElementPlanner"/>); each element's comment is its first contributing
/// entry in policy order, its timeout the latest expiry of its contributors (none when one is permanent), and its
/// userdata lists every contributor (<see cref="GrantUserData"/>) so <see cref="FromKernel"/> can rebuild the model.
/// Grants are kept in clusters of overlapping address ranges, indexed by address, so a <see cref="Change"/> re-plans
/// only the clusters it overlaps. A scoped set (<c>allow_cgroup_v4</c>, <c>allow_user_v6</c>, ...) has the scope (cgroup id
/// or uid) as a fourth key field: one model holds the grants of ONE scope value (elements of different values never
/// overlap), so a set holds one model per value and re-binding a restarted unit moves one model's elements. Not thread-safe.
/// </summary>
internal sealed class AllowSetModel
{
    /// <summary>
    /// Disjoint clusters sorted by first address: the ones a range overlaps are neighbours, found by binary search
    /// without allocating (a refresh round asks this thousands of times).
    /// </summary>
    private readonly List<Cluster> _clusters = [];
    private readonly Dictionary<string, int> _ranks = new(StringComparer.Ordinal);
    private readonly AddressFamily _family;
    private readonly byte[] _scopeKey; // the scope's key field (the fourth), empty for an unscoped set

    // Scratch collections of Change, empty between calls (ReleaseScratch) and reused: a refresh round changes thousands of elements, and these would
    // otherwise be allocated (and grown) again every round.
    private readonly HashSet<Cluster> _seen = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<AllowBox> _before = [], _after = [];
    private readonly Dictionary<(UInt128, UInt128, byte, ushort, ushort), AllowBox> _goneByKey = [];
    private readonly HashSet<AllowBox> _moved = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<PlacedGrant, int> _cutCounts = new(ExactGrant.Instance);
    private readonly List<AllowBox> _retimed = [];

    // Elements whose timeout TryMoveExpiry moved since the last Change, with their boxes and new timeouts: that
    // Change's delta carries those whose box it did not replace.
    private readonly List<(AllowBox Box, SetElement Element, TimeSpan Timeout)> _pendingRefresh = [];

    // The Refresh of every delta this model returns, filled anew by each Change: no list or element copy per round.
    private readonly RetimedElements _refresh = new();

    /// <summary>A model of <paramref name="set"/> holding <paramref name="grants"/> (all of <paramref name="scope"/>); entries rank in order of first appearance.</summary>
    public AllowSetModel(NftSet set, IEnumerable<AllowGrant> grants, GrantScope? scope = null)
        : this(set, scope)
    {
        ArgumentNullException.ThrowIfNull(grants);
        foreach (var cluster in ElementPlanner.Clusters(grants.Select(Place).ToList()))
            _clusters.Add(new Cluster(cluster));
        _clusters.Sort(ByFirstAddress);
    }

    private AllowSetModel(NftSet set, GrantScope? scope)
    {
        ArgumentNullException.ThrowIfNull(set);
        Set = set;
        Scope = scope;
        var key = set.Key;
        bool allowKey = key.Count >= 3 && key[1] == SetKeyType.InetProto && key[2] == SetKeyType.InetService
            && (key.Count == 3 ? scope is null : key.Count == 4 && scope is { } s && key[3] == (s.IsCgroup ? SetKeyType.CgroupV2 : SetKeyType.Uid));
        _family = allowKey && key[0] == SetKeyType.Ipv4Address ? AddressFamily.InterNetwork
            : allowKey && key[0] == SetKeyType.Ipv6Address ? AddressFamily.InterNetworkV6
            : throw new ArgumentException($"set {set.Name} does not have an allow set's key for {(scope is { } g ? g.ToString() : "unscoped grants")} "
                + "(addr . inet_proto . inet_service, and cgroupsv2 or uid for scoped grants)", nameof(set));
        _scopeKey = scope is not { } bound ? []
            : (bound.IsCgroup ? SetKeyField.CgroupId(bound.Id) : SetKeyField.Uid((uint)bound.Id)).First.Span.ToArray();
    }

    /// <summary>The set the elements belong to.</summary>
    public NftSet Set { get; }

    /// <summary>The scope every grant of this model has (the key's fourth field); null for an unscoped set.</summary>
    public GrantScope? Scope { get; }

    /// <summary>The grants held, as CIDR networks, in address order (a model rebuilt from the kernel holds its elements' pieces).</summary>
    public IEnumerable<AllowGrant> Grants =>
        _clusters.SelectMany(c => c.Grants).SelectMany(g => AddressMath.Networks(g.First, g.Last, _family)
            .Select(n => new AllowGrant(g.Entry, n, (ProtocolType)g.Protocol, g.Ports, g.Expires, Scope)));

    /// <summary>Number of elements (including ones whose contributors have all expired).</summary>
    public int Count => _clusters.Sum(c => c.Boxes.Count);

    /// <summary>
    /// Every element as the set should hold it at <paramref name="now"/>, sorted by key: the same grants always give
    /// the same elements. Elements whose contributors have all expired are left out; timeouts count from <paramref name="now"/>.
    /// </summary>
    public IReadOnlyList<SetElement> Elements(DateTimeOffset now)
    {
        var elements = new List<SetElement>();
        foreach (var cluster in _clusters)
            foreach (var box in cluster.Boxes)
                if (ToElement(box, now) is { } element)
                    elements.Add(element);
        return elements;
    }

    /// <summary>
    /// Adds and removes grants and returns the element changes for one transaction. Only clusters whose address
    /// range overlaps a changed grant are re-planned, and only elements that differ are in the delta. Removing a
    /// grant held exactly removes it (another grant of the same entry may still cover the region); otherwise the
    /// grant's region is cut out of that entry's grants with the same expiry (what a model rebuilt from a dump holds).
    /// New entries rank after the known ones. With <paramref name="refreshInPlace"/>, an element whose key and userdata
    /// stay and whose timeout alone moves is in <see cref="ElementDelta.Refresh"/> instead of being deleted and added.
    /// </summary>
    public ElementDelta Change(IEnumerable<AllowGrant> add, IEnumerable<AllowGrant> remove, DateTimeOffset now, bool refreshInPlace = false)
    {
        ArgumentNullException.ThrowIfNull(add);
        ArgumentNullException.ThrowIfNull(remove);
        var removed = remove.Select(Place).ToList();
        var added = add.Select(Place).ToList();
        if (removed.Count == 0 && added.Count == 0)
            return new ElementDelta([], [], TakePendingRefresh(null, null));
        try
        {
            return Plan(removed, added, now, refreshInPlace);
        }
        finally
        {
            ReleaseScratch(); // their capacity stays; the replaced clusters and boxes they point at can go
        }
    }

    private ElementDelta Plan(List<PlacedGrant> removed, List<PlacedGrant> added, DateTimeOffset now, bool refreshInPlace)
    {
        var affected = new List<Cluster>();
        AddAffected(removed, affected);
        AddAffected(added, affected);
        int held = added.Count;
        foreach (var cluster in affected)
            held += cluster.Grants.Count;
        var pool = new List<PlacedGrant>(held);
        var before = _before;
        foreach (var cluster in affected)
        {
            pool.AddRange(cluster.Grants);
            before.UnionWith(cluster.Boxes);
        }
        RemoveAll(pool, removed);
        pool.AddRange(added);
        var clusters = ElementPlanner.Clusters(pool);
        var replacements = new List<Cluster>(clusters.Count);
        foreach (var grants in clusters)
            replacements.Add(new Cluster(grants));
        Replace(affected, _seen, replacements);
        var afterSet = _after;
        var gone = new List<AllowBox>();
        var fresh = new List<AllowBox>();
        foreach (var cluster in replacements)
            foreach (var box in cluster.Boxes)
                if (afterSet.Add(box) && !before.Contains(box))
                    fresh.Add(box);
        foreach (var box in before)
            if (!afterSet.Contains(box))
                gone.Add(box);
        gone.Sort();
        fresh.Sort();
        var refresh = TakePendingRefresh(before, afterSet);
        if (refreshInPlace && gone.Count > 0 && fresh.Count > 0)
            MoveTimeoutsInPlace(gone, fresh, refresh, now);
        var removeElements = new List<SetElement>(gone.Count);
        foreach (var box in gone)
        {
            var (key, end) = Key(box, endToo: false); // a single value is deleted by its key alone, as nft does
            removeElements.Add(new SetElement(key) { KeyEnd = end });
        }
        var addElements = new List<SetElement>(fresh.Count);
        foreach (var box in fresh)
            if (ToElement(box, now) is { } element)
                addElements.Add(element);
        return new ElementDelta(removeElements, addElements, refresh);
    }

    private void ReleaseScratch()
    {
        _seen.Clear();
        _before.Clear();
        _after.Clear();
        _goneByKey.Clear();
        _moved.Clear();
        _cutCounts.Clear();
    }

    /// <summary>Whether <see cref="TryMoveExpiry"/> moved timeouts that no <see cref="Change"/> has handed on yet.</summary>
    public bool HasPendingRefresh => _pendingRefresh.Count > 0;

    /// <summary>The elements TryMoveExpiry retimed, less those whose box a change took away (it is deleted instead).</summary>
    private RetimedElements TakePendingRefresh(HashSet<AllowBox>? before, HashSet<AllowBox>? after)
    {
        var taken = _refresh;
        taken.Clear();
        foreach (var (box, element, timeout) in _pendingRefresh)
            if (before is null || after is null || !before.Contains(box) || after.Contains(box))
                taken.Add(element, timeout);
        _pendingRefresh.Clear();
        return taken;
    }

    /// <summary>
    /// A DNS refresh's steady state without re-planning: when all the model holds at <paramref name="address"/> is
    /// <paramref name="entry"/>'s grants of that one address for exactly the ports of <paramref name="tcp"/> and
    /// <paramref name="udp"/>, all timed to one expiry, each element of one contributor, their expiry moves to <paramref name="expires"/> in place,
    /// and the elements whose timeout moved are in the next <see cref="Change"/>'s <see cref="ElementDelta.Refresh"/>:
    /// what removing those grants and adding them again with the new expiry gives (for a kernel that moves timeouts in
    /// place), without a grant, a cluster or a plan made per address. False, with nothing changed, in any other case.
    /// </summary>
    public bool TryMoveExpiry(string entry, IPAddress address, IReadOnlyList<PortRange> tcp, IReadOnlyList<PortRange> udp, DateTimeOffset expires, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != _family)
            return false;
        UInt128 at = AddressMath.ToNumber(address);
        var (start, end) = Overlapping(at, at);
        if (end - start != 1 || _clusters[start] is not { } cluster || cluster.First != at || cluster.Last != at
            || cluster.Grants.Count != tcp.Count + udp.Count)
            return false;
        var until = Truncate(expires);
        if (KernelTimeout(until, now) <= TimeSpan.Zero)
            return false; // already expired at the millisecond: the general path deletes the element
        // One common expiry: the boxes then stay exactly what planning the grants with the new one gives.
        var held = cluster.Grants[0].Expires;
        foreach (var g in cluster.Grants)
            if (g.Entry != entry || g.Expires is null || g.Expires != held || !HoldsPorts(g.Protocol == (byte)ProtocolType.Tcp ? tcp : g.Protocol == (byte)ProtocolType.Udp ? udp : [], g.Ports))
                return false;
        if (!AllHeld(tcp, ProtocolType.Tcp, cluster.Grants) || !AllHeld(udp, ProtocolType.Udp, cluster.Grants))
            return false;
        foreach (var box in cluster.Boxes)
            if (box.Contributors.Length != 1)
                return false;
        // Which elements change is decided before anything moves (boxes could share a contributor array).
        _retimed.Clear();
        foreach (var box in cluster.Boxes)
            if (box.Contributors[0].Expires != until)
                _retimed.Add(box);
        foreach (var g in cluster.Grants)
            g.Expires = until; // in place: a copy per grant per refresh was most of what a round allocated
        foreach (var box in cluster.Boxes)
            box.Contributors[0] = box.Contributors[0] with { Expires = until };
        foreach (var box in _retimed)
            _pendingRefresh.Add((box, ElementOf(box, now), KernelTimeout(until, now)));
        _retimed.Clear();
        return true;

        static bool HoldsPorts(IReadOnlyList<PortRange> ports, PortRange wanted)
        {
            for (int i = 0; i < ports.Count; i++)
                if (ports[i] == wanted)
                    return true;
            return false;
        }

        static bool AllHeld(IReadOnlyList<PortRange> ports, ProtocolType protocol, List<PlacedGrant> grants)
        {
            for (int i = 0; i < ports.Count; i++)
            {
                bool held = false;
                foreach (var g in grants)
                    held |= g.Protocol == (byte)protocol && g.Ports == ports[i];
                if (!held)
                    return false;
            }
            return true;
        }
    }

    /// <summary>Adds to <paramref name="affected"/> (once each, in order) the clusters that <paramref name="grants"/> overlap.</summary>
    private void AddAffected(List<PlacedGrant> grants, List<Cluster> affected)
    {
        foreach (var g in grants)
        {
            var (start, end) = Overlapping(g.First, g.Last);
            for (int i = start; i < end; i++)
                if (_seen.Add(_clusters[i]))
                    affected.Add(_clusters[i]);
        }
    }

    /// <summary>
    /// Takes out of <paramref name="gone"/> and <paramref name="fresh"/> (both in key order) the pairs that are the same
    /// element with another timeout, and puts the new element, expiring from now, in <paramref name="refresh"/>.
    /// </summary>
    private void MoveTimeoutsInPlace(List<AllowBox> gone, List<AllowBox> fresh, RetimedElements refresh, DateTimeOffset now)
    {
        var byKey = _goneByKey;
        foreach (var box in gone)
            byKey[(box.First, box.Last, box.Protocol, box.FirstPort, box.LastPort)] = box;
        var moved = _moved;
        fresh.RemoveAll(box =>
        {
            // An element already expired at the millisecond is not moved: the old one is deleted, as before.
            if (!byKey.TryGetValue((box.First, box.Last, box.Protocol, box.FirstPort, box.LastPort), out var old) || !GrantUserData.OnlyTimeoutDiffers(old, box)
                || ToElement(box, now) is not { Timeout: { } timeout } element)
                return false;
            refresh.Add(element, timeout);
            moved.Add(old);
            return true;
        });
        gone.RemoveAll(moved.Contains);
    }

    /// <summary>
    /// Adds to <paramref name="found"/> the grants of <paramref name="entry"/> inside <paramref name="network"/> (as CIDR
    /// networks), and the part inside it of those that contain it. Only the clusters overlapping the network are looked at: the cost does not grow with
    /// the set (a DNS refresh asks this once per address).
    /// </summary>
    /// <param name="entry">The entry.</param>
    /// <param name="network">The region.</param>
    /// <param name="found">Where the grants are added (a caller asking for many addresses reuses one list).</param>
    public void GrantsOverlapping(string entry, IPNetwork network, List<AllowGrant> found)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(found);
        var (first, last) = AddressMath.Range(network);
        var (start, end) = Overlapping(first, last);
        for (int i = start; i < end; i++)
        {
            foreach (var g in _clusters[i].Grants)
            {
                if (g.Entry != entry || g.Last < first || g.First > last)
                    continue;
                if (AddressMath.SingleNetwork(g.First, g.Last, _family) is { } whole)
                {
                    // One CIDR block (every address a name resolves to): no enumerator of pieces.
                    AddOverlap(found, g, whole, network);
                    continue;
                }
                foreach (var piece in AddressMath.Networks(g.First, g.Last, _family))
                    AddOverlap(found, g, piece, network);
            }
        }
    }

    /// <summary>The part of <paramref name="piece"/> (a block of grant <paramref name="g"/>) inside <paramref name="network"/>, as a grant.</summary>
    private void AddOverlap(List<AllowGrant> found, PlacedGrant g, IPNetwork piece, IPNetwork network)
    {
        if (network.Contains(piece.BaseAddress) && piece.PrefixLength >= network.PrefixLength)
            found.Add(new AllowGrant(g.Entry, piece, (ProtocolType)g.Protocol, g.Ports, g.Expires, Scope));
        else if (piece.Contains(network.BaseAddress) && network.PrefixLength >= piece.PrefixLength)
            found.Add(new AllowGrant(g.Entry, network, (ProtocolType)g.Protocol, g.Ports, g.Expires, Scope));
    }

    /// <summary>
    /// Rebuilds the model of <paramref name="set"/> from its elements as listed by the kernel: each element's
    /// contributor TLVs become grants of its address range, protocol and ports. An element without them (added by
    /// hand) counts as its comment's entry (or <c>(unnamed)</c>), expiring when the kernel says it expires.
    /// Entry ranks follow the contributor order of the elements (each element lists its contributors in rank order).
    /// </summary>
    public static AllowSetModel FromKernel(NftSet set, IEnumerable<SetElement> elements, DateTimeOffset now) => FromKernelOf(set, elements, now, null);

    /// <summary>
    /// As <see cref="FromKernel(NftSet, IEnumerable{SetElement}, DateTimeOffset)"/> for a scoped set: one model per scope
    /// value its elements hold (the key's fourth field).
    /// </summary>
    public static Dictionary<GrantScope, AllowSetModel> FromKernelByScope(NftSet set, IEnumerable<SetElement> elements, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(elements);
        if (set.Key.Count != 4 || set.Key[3] is not (SetKeyType.CgroupV2 or SetKeyType.Uid))
            throw new ArgumentException($"set {set.Name} is not a scoped allow set", nameof(set));
        bool cgroup = set.Key[3] == SetKeyType.CgroupV2;
        int at = set.KeyLength - (cgroup ? 8 : 4);
        return elements.GroupBy(e => cgroup
                ? GrantScope.Cgroup(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(e.Key.Span[at..]))
                : GrantScope.User(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(e.Key.Span[at..])))
            .ToDictionary(g => g.Key, g => FromKernelOf(set, g, now, g.Key));
    }

    /// <summary>
    /// The protocol and ports of each element of <paramref name="elements"/> whose userdata counts contributors it does
    /// not name (<see cref="GrantUserData.Unlisted"/>): a grant on those may be held without showing in a listing.
    /// </summary>
    public static List<(ProtocolType Protocol, PortRange Ports)> UnlistedServices(NftSet set, IEnumerable<SetElement> elements)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(elements);
        int protoAt = set.Key[0] == SetKeyType.Ipv4Address ? 4 : 16, portAt = protoAt + 4;
        var services = new List<(ProtocolType, PortRange)>();
        foreach (var element in elements)
        {
            if (element.UserData is not { } userData || GrantUserData.Unlisted(userData.Span) == 0)
                continue;
            var first = element.Key.Span;
            var last = (element.KeyEnd ?? element.Key).Span;
            services.Add(((ProtocolType)first[protoAt], PortsOf(first, last, portAt)));
        }
        return services;
    }

    /// <summary>The port range of an element whose key (and key end) hold a big-endian port at <paramref name="portAt"/>.</summary>
    private static PortRange PortsOf(ReadOnlySpan<byte> first, ReadOnlySpan<byte> last, int portAt) =>
        new(BinaryPrimitives.ReadUInt16BigEndian(first[portAt..]), BinaryPrimitives.ReadUInt16BigEndian(last[portAt..]));

    private static AllowSetModel FromKernelOf(NftSet set, IEnumerable<SetElement> elements, DateTimeOffset now, GrantScope? scope)
    {
        ArgumentNullException.ThrowIfNull(elements);
        var model = new AllowSetModel(set, scope);
        int addressBytes = model._family == AddressFamily.InterNetwork ? 4 : 16;
        var pieces = new List<(string Entry, DateTimeOffset? Expires, byte Protocol, UInt128 First, UInt128 Last, PortRange Ports)>();
        var orders = new List<List<string>>();
        foreach (var element in elements)
        {
            var first = element.Key.Span;
            var last = (element.KeyEnd ?? element.Key).Span;
            int protoAt = addressBytes, portAt = addressBytes + 4;
            // The time left as listed; an element not read from the kernel (a model's own) has its timeout still whole.
            DateTimeOffset? elementExpires = (element.Expiration ?? element.Timeout) is { } left ? Truncate(now + left) : null;
            var contributors = element.UserData is { } userData ? GrantUserData.Decode(userData.Span, elementExpires) : [];
            if (contributors.Count == 0)
                contributors.Add((element.Comment ?? "(unnamed)", elementExpires));
            orders.Add(contributors.Select(c => c.Entry).ToList());
            foreach (var (entry, expires) in contributors)
                pieces.Add((entry, expires, first[protoAt],
                    AddressMath.ToNumber(first[..addressBytes]), AddressMath.ToNumber(last[..addressBytes]),
                    PortsOf(first, last, portAt)));
        }
        foreach (var entry in RankOrder(orders))
            model._ranks[entry] = model._ranks.Count;
        var placed = pieces.Select(p => new PlacedGrant(p.Entry, p.Expires, p.Protocol, p.First, p.Last, p.Ports, model._ranks[p.Entry]));
        foreach (var cluster in ElementPlanner.Clusters(placed))
            model._clusters.Add(new Cluster(cluster));
        model._clusters.Sort(ByFirstAddress);
        return model;
    }

    /// <summary>An order of entries in which every element's contributor list is ascending (Kahn's algorithm, ties by first appearance).</summary>
    private static List<string> RankOrder(List<List<string>> orders)
    {
        var seen = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var after = new List<HashSet<int>>();
        var pending = new List<int>();
        int Id(string entry)
        {
            if (!index.TryGetValue(entry, out int id))
            {
                index[entry] = id = seen.Count;
                seen.Add(entry);
                after.Add([]);
                pending.Add(0);
            }
            return id;
        }
        foreach (var order in orders)
            for (int i = 0; i < order.Count; i++)
            {
                int id = Id(order[i]);
                if (i > 0 && Id(order[i - 1]) is int previous && previous != id && after[previous].Add(id))
                    pending[id]++;
            }
        var ready = new SortedSet<int>(Enumerable.Range(0, seen.Count).Where(i => pending[i] == 0));
        var result = new List<string>(seen.Count);
        var ranked = new bool[seen.Count]; // not result.Contains: that is quadratic, and a policy may have 10,000 entries
        while (ready.Count > 0)
        {
            int next = ready.Min;
            ready.Remove(next);
            result.Add(seen[next]);
            ranked[next] = true;
            foreach (int later in after[next])
                if (--pending[later] == 0)
                    ready.Add(later);
        }
        // A cycle (contradictory orders: elements written by different policies) keeps first appearance.
        result.AddRange(seen.Where((_, id) => !ranked[id]));
        return result;
    }

    private PlacedGrant Place(AllowGrant grant)
    {
        ArgumentNullException.ThrowIfNull(grant);
        if (grant.Network.BaseAddress.AddressFamily != _family)
            throw new ArgumentException($"grant of '{grant.Entry}' for {grant.Network} is not {(_family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} like set {Set.Name}", nameof(grant));
        if (grant.Scope != Scope)
            throw new ArgumentException($"grant of '{grant.Entry}' is for {grant.Scope?.ToString() ?? "every process"}, this model of set {Set.Name} holds {Scope?.ToString() ?? "unscoped grants"}", nameof(grant));
        if (grant.Protocol is not (ProtocolType.Tcp or ProtocolType.Udp))
            throw new ArgumentException($"grant of '{grant.Entry}' is for {grant.Protocol}; allow sets hold tcp and udp", nameof(grant));
        if (!_ranks.TryGetValue(grant.Entry, out int rank))
            _ranks[grant.Entry] = rank = _ranks.Count;
        var (first, last) = AddressMath.Range(grant.Network);
        return new PlacedGrant(grant.Entry, grant.Expires is { } e ? Truncate(e) : null, (byte)grant.Protocol, first, last, grant.Ports, rank);
    }

    /// <summary>Expiries are kept to the millisecond, as element userdata records them.</summary>
    private static DateTimeOffset Truncate(DateTimeOffset time) => DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());

    /// <summary>
    /// Removes each of <paramref name="cuts"/> from the pool: grants held exactly go in one pass (a refresh round
    /// removes thousands), the rest are cut one by one.
    /// </summary>
    private void RemoveAll(List<PlacedGrant> pool, List<PlacedGrant> cuts)
    {
        if (cuts.Count == 0)
            return;
        var exact = _cutCounts;
        foreach (var cut in cuts)
            exact[cut] = exact.GetValueOrDefault(cut) + 1;
        var remaining = new List<PlacedGrant>(pool.Count);
        foreach (var g in pool)
        {
            if (exact.TryGetValue(g, out int count) && count > 0)
                exact[g] = count - 1;
            else
                remaining.Add(g);
        }
        pool.Clear();
        pool.AddRange(remaining);
        foreach (var (cut, left) in exact)
            for (int i = 0; i < left; i++)
                Remove(pool, cut);
    }

    /// <summary>Grants equal in everything a removal matches on (not the rank).</summary>
    private sealed class ExactGrant : IEqualityComparer<PlacedGrant>
    {
        public static readonly ExactGrant Instance = new();

        public bool Equals(PlacedGrant? x, PlacedGrant? y) => x!.Entry == y!.Entry && x.Expires == y.Expires && x.Protocol == y.Protocol
            && x.First == y.First && x.Last == y.Last && x.Ports == y.Ports;

        public int GetHashCode(PlacedGrant g) => HashCode.Combine(g.Entry, g.Expires, g.Protocol, g.First, g.Last, g.Ports);
    }

    private static void Remove(List<PlacedGrant> pool, PlacedGrant cut)
    {
        int exact = pool.FindIndex(g => g.Entry == cut.Entry && g.Expires == cut.Expires && g.Protocol == cut.Protocol
            && g.First == cut.First && g.Last == cut.Last && g.Ports == cut.Ports);
        if (exact >= 0)
        {
            pool.RemoveAt(exact);
            return;
        }
        for (int i = pool.Count - 1; i >= 0; i--)
        {
            var g = pool[i];
            if (g.Entry != cut.Entry || g.Expires != cut.Expires || g.Protocol != cut.Protocol
                || g.Last < cut.First || g.First > cut.Last || g.Ports.Last < cut.Ports.First || g.Ports.First > cut.Ports.Last)
                continue;
            pool.RemoveAt(i);
            // What is left of g: address parts outside the cut, and inside it the ports outside the cut.
            if (g.First < cut.First)
                pool.Add(g with { Last = cut.First - 1 });
            if (g.Last > cut.Last)
                pool.Add(g with { First = cut.Last + 1 });
            var inside = g with { First = UInt128.Max(g.First, cut.First), Last = UInt128.Min(g.Last, cut.Last) };
            if (g.Ports.First < cut.Ports.First)
                pool.Add(inside with { Ports = new PortRange(g.Ports.First, (ushort)(cut.Ports.First - 1)) });
            if (g.Ports.Last > cut.Ports.Last)
                pool.Add(inside with { Ports = new PortRange((ushort)(cut.Ports.Last + 1), g.Ports.Last) });
        }
    }

    /// <summary>
    /// The index range [Start, End) of the clusters whose address range overlaps <paramref name="first"/>..<paramref name="last"/>:
    /// disjoint and sorted, they end just before the first cluster starting after <paramref name="last"/>.
    /// </summary>
    private (int Start, int End) Overlapping(UInt128 first, UInt128 last)
    {
        int end = StartingAfter(last), start = end;
        while (start > 0 && _clusters[start - 1].Last >= first)
            start--;
        return (start, end);
    }

    /// <summary>The index of the first cluster that starts after <paramref name="address"/> (the count when none does).</summary>
    private int StartingAfter(UInt128 address)
    {
        int low = 0, high = _clusters.Count;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (_clusters[middle].First <= address)
                low = middle + 1;
            else
                high = middle;
        }
        return low;
    }

    /// <summary>
    /// Takes <paramref name="old"/> out of the sorted clusters and puts <paramref name="replacements"/> in: one by one by
    /// binary search for a few (one address into a large set), in one pass and a sort for many (a refresh round).
    /// </summary>
    private void Replace(List<Cluster> old, HashSet<Cluster> oldSet, List<Cluster> replacements)
    {
        const int Few = 16;
        if (old.Count <= Few)
            foreach (var cluster in old)
                _clusters.RemoveAt(StartingAfter(cluster.First) - 1); // starts are distinct: the one starting there
        else
            _clusters.RemoveAll(oldSet.Contains);
        if (replacements.Count <= Few)
        {
            foreach (var cluster in replacements)
                _clusters.Insert(StartingAfter(cluster.First), cluster);
        }
        else
        {
            _clusters.AddRange(replacements);
            _clusters.Sort(ByFirstAddress);
        }
    }

    private static readonly Comparison<Cluster> ByFirstAddress = (x, y) => x.First.CompareTo(y.First);

    /// <summary>
    /// The key of <paramref name="box"/>'s element (a range's both ends; a single value's end only when
    /// <paramref name="endToo"/>, as an addition sends it). Written straight from the numbers in
    /// <see cref="SetElementKeys.Join"/>'s layout (addr . inet_proto . inet_service [. scope], each field in whole 32-bit
    /// registers): a refresh round builds thousands, and typed key fields would cost a dozen objects each.
    /// </summary>
    private (DataValue Key, DataValue? End) Key(AllowBox box, bool endToo)
    {
        var first = DataValue.Own(KeyBytes(box.First, box.Protocol, box.FirstPort));
        bool range = box.First != box.Last || box.FirstPort != box.LastPort;
        return (first, range ? DataValue.Own(KeyBytes(box.Last, box.Protocol, box.LastPort)) : endToo ? first : null);
    }

    private byte[] KeyBytes(UInt128 address, byte protocol, ushort port)
    {
        int addressBytes = _family == AddressFamily.InterNetwork ? 4 : 16;
        var key = new byte[addressBytes + 8 + _scopeKey.Length];
        if (addressBytes == 4)
            BinaryPrimitives.WriteUInt32BigEndian(key, (uint)address);
        else
            BinaryPrimitives.WriteUInt128BigEndian(key, address);
        key[addressBytes] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(key.AsSpan(addressBytes + 4), port);
        _scopeKey.CopyTo(key, addressBytes + 8);
        return key;
    }

    /// <summary>
    /// The element of a box of one contributor whose expiry <see cref="TryMoveExpiry"/> moved (still in the future),
    /// to be sent with its new timeout (<see cref="RetimedElements"/>): the element last made for the box. Its key and
    /// userdata bytes are what <see cref="ToElement"/> would write again: the key is the box's, and the one
    /// contributor's expiry is written as "with the element" before and after (<see cref="GrantUserData"/>).
    /// </summary>
    private SetElement ElementOf(AllowBox box, DateTimeOffset now) => box.LastElement ?? ToElement(box, now)!;

    /// <summary>The timeout an element expiring at <paramref name="expires"/> gets at <paramref name="now"/>: the kernel counts whole milliseconds.</summary>
    private static TimeSpan KernelTimeout(DateTimeOffset expires, DateTimeOffset now) => TimeSpan.FromMilliseconds(Math.Floor((expires - now).TotalMilliseconds));

    /// <summary>The element of <paramref name="box"/> as it should be added at <paramref name="now"/>; null when already expired.</summary>
    /// <param name="box">The planned element.</param>
    /// <param name="now">When its timeout starts counting.</param>
    private SetElement? ToElement(AllowBox box, DateTimeOffset now)
    {
        TimeSpan? timeout = null;
        if (box.Expires is { } expires)
        {
            // What expires within a millisecond is already gone.
            timeout = KernelTimeout(expires, now);
            if (timeout <= TimeSpan.Zero)
                return null;
        }
        // The set's key types were checked when the model was made: an allow set is a concatenated interval set, where
        // nft sends a single value as the range [value, value] (what SetElementKeys.Shape does for an addition).
        var (key, end) = Key(box, endToo: true);
        DataValue userData;
        try
        {
            userData = GrantUserData.Encode(box);
        }
        catch (ElementUserDataOverflowException e) when (e.Element is null)
        {
            throw e.For(TableDiff.Describe(Set, new SetElement(key) { KeyEnd = end }));
        }
        return box.LastElement = new SetElement(key) { KeyEnd = end, Timeout = timeout, UserData = userData };
    }

    /// <summary>Overlapping grants and the boxes they plan to.</summary>
    private sealed class Cluster
    {
        public Cluster(List<PlacedGrant> grants)
        {
            Grants = grants;
            // A loop, not Min/Max: LINQ would box the list's enumerator twice per cluster (a refresh round makes thousands).
            UInt128 first = UInt128.MaxValue, last = UInt128.MinValue;
            foreach (var g in grants)
            {
                first = UInt128.Min(first, g.First);
                last = UInt128.Max(last, g.Last);
            }
            First = first;
            Last = last;
            Boxes = ElementPlanner.Plan(grants);
        }

        public UInt128 First { get; }
        public UInt128 Last { get; }
        public List<PlacedGrant> Grants { get; }
        public List<AllowBox> Boxes { get; }
    }
}
