using System.Net;
using System.Net.Sockets;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Tests.Policy.Layout;

/// <summary>
/// The allow-set planner: overlapping grants become disjoint elements, attributed to the first entry in policy
/// order, timed out with the latest expiry, and rebuildable from their userdata; changes touch only what differs.
/// </summary>
public sealed class AllowSetModelTests
{
    internal static readonly NftSet V4 = new(NftFamily.Inet, "t", "allow_v4", [SetKeyType.Ipv4Address, SetKeyType.InetProto, SetKeyType.InetService], SetFlags.Interval | SetFlags.Timeout);
    internal static readonly NftSet V6 = new(NftFamily.Inet, "t", "allow_v6", [SetKeyType.Ipv6Address, SetKeyType.InetProto, SetKeyType.InetService], SetFlags.Interval | SetFlags.Timeout);
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 6, 0, 0, TimeSpan.Zero);

    private static AllowGrant Tcp(string entry, string network, ushort first, ushort last = 0, DateTimeOffset? expires = null) =>
        new(entry, IPNetwork.Parse(network), ProtocolType.Tcp, new PortRange(first, last == 0 ? first : last), expires);

    private static AllowGrant Udp(string entry, string network, ushort first, ushort last = 0, DateTimeOffset? expires = null) =>
        new(entry, IPNetwork.Parse(network), ProtocolType.Udp, new PortRange(first, last == 0 ? first : last), expires);

    /// <summary><c>first-last . proto . ports comment</c>, the element as nft would print it (addresses as ranges).</summary>
    internal static string Text(SetElement e, NftSet set, DateTimeOffset? listedAt = null)
    {
        var box = Decoded.Of(e, set);
        string ports = box.FirstPort == box.LastPort ? $"{box.FirstPort}" : $"{box.FirstPort}-{box.LastPort}";
        string addresses = box.First.Equals(box.Last) ? $"{box.First}" : $"{box.First}-{box.Last}";
        string proto = box.Protocol == 6 ? "tcp" : "udp";
        return $"{addresses} . {proto} . {ports} \"{e.Comment}\" [{string.Join(",", GrantUserData.Decode(e.UserData!.Value.Span, (listedAt ?? Now) + e.Timeout).Select(c => c.Entry + (c.Expires is { } x ? "@" + (x - Now).TotalSeconds : "")))}]"
            + (e.Timeout is { } t ? $" timeout {t.TotalSeconds}s" : "");
    }

    private static string[] Texts(AllowSetModel model) => model.Elements(Now).Select(e => Text(e, model.Set)).ToArray();

    public static TheoryData<string, string, int, int, string?> KeyCases => new()
    {
        { "v4", "203.0.113.7/32", 443, 443, null },
        { "v4", "10.0.0.0/8", 1000, 2000, null },
        { "v4", "198.51.100.9/32", 8000, 8100, null },
        { "v6", "2001:db8::1/128", 443, 443, null },
        { "v6", "2001:db8::/32", 53, 53, null },
        { "v4", "203.0.113.7/32", 443, 443, "cgroup" },
        { "v6", "2001:db8::/64", 22, 23, "uid" },
    };

    [Theory]
    [MemberData(nameof(KeyCases))]
    public void Element_keys_are_laid_out_as_the_typed_key_fields_lay_them_out(string family, string network, int firstPort, int lastPort, string? scoped)
    {
        var parsed = IPNetwork.Parse(network);
        GrantScope? scope = scoped switch { "cgroup" => GrantScope.Cgroup(0x0102030405060708), "uid" => GrantScope.User(1000), _ => null };
        SetKeyType[] key = family == "v4" ? [SetKeyType.Ipv4Address, SetKeyType.InetProto, SetKeyType.InetService] : [SetKeyType.Ipv6Address, SetKeyType.InetProto, SetKeyType.InetService];
        if (scope is { } s)
            key = [.. key, s.IsCgroup ? SetKeyType.CgroupV2 : SetKeyType.Uid];
        var set = new NftSet(NftFamily.Inet, "t", "allow_" + family, key, SetFlags.Interval | SetFlags.Timeout);
        var grant = new AllowGrant("a", parsed, ProtocolType.Tcp, new PortRange((ushort)firstPort, (ushort)lastPort), null, scope);
        var model = new AllowSetModel(set, [grant], scope);
        // The oracle: the element built from typed fields and shaped as a transaction shapes it.
        var (first, last) = AddressMath.Range(parsed);
        List<SetKeyField> fields = [
            SetKeyField.AddressRange(AddressMath.ToAddress(first, parsed.BaseAddress.AddressFamily), AddressMath.ToAddress(last, parsed.BaseAddress.AddressFamily)),
            SetKeyField.Protocol(ProtocolType.Tcp), SetKeyField.Ports((ushort)firstPort, (ushort)lastPort)];
        if (scope is { } bound)
            fields.Add(bound.IsCgroup ? SetKeyField.CgroupId(bound.Id) : SetKeyField.Uid((uint)bound.Id));
        var typed = SetElement.Of([.. fields]);
        var added = Assert.Single(model.Elements(Now));
        var expectedAdd = Assert.Single(SetElementKeys.Shape(set, [typed], add: true));
        Assert.Equal(expectedAdd.Key.ToArray(), added.Key.ToArray());
        Assert.Equal(expectedAdd.KeyEnd?.ToArray(), added.KeyEnd?.ToArray());
        var removed = Assert.Single(model.Change([], [grant], Now).Remove);
        var expectedRemove = Assert.Single(SetElementKeys.Shape(set, [typed], add: false));
        Assert.Equal(expectedRemove.Key.ToArray(), removed.Key.ToArray());
        Assert.Equal(expectedRemove.KeyEnd?.ToArray(), removed.KeyEnd?.ToArray());
    }

    [Fact]
    public void Disjoint_grants_are_one_element_each_in_key_order()
    {
        var model = new AllowSetModel(V4, [Tcp("b", "203.0.113.7/32", 443), Tcp("a", "10.0.0.0/8", 80, 81), Udp("a", "10.0.0.0/8", 53)]);
        Assert.Equal([
            "10.0.0.0-10.255.255.255 . tcp . 80-81 \"a\" [a]",
            "10.0.0.0-10.255.255.255 . udp . 53 \"a\" [a]",
            "203.0.113.7 . tcp . 443 \"b\" [b]",
        ], Texts(model));
    }

    [Fact]
    public void A_network_inside_another_splits_the_outer_one_and_the_first_entry_names_the_overlap()
    {
        // The kernel refuses 10.1.2.0/24 . tcp . 443 next to 10.0.0.0/8 . tcp . 443 (EEXIST): three disjoint pieces.
        var model = new AllowSetModel(V4, [Tcp("wide", "10.0.0.0/8", 443), Tcp("narrow", "10.1.2.0/24", 443)]);
        Assert.Equal([
            "10.0.0.0-10.1.1.255 . tcp . 443 \"wide\" [wide]",
            "10.1.2.0-10.1.2.255 . tcp . 443 \"wide\" [wide,narrow]",
            "10.1.3.0-10.255.255.255 . tcp . 443 \"wide\" [wide]",
        ], Texts(model));
        // Policy order, not address order, decides the comment.
        var reversed = new AllowSetModel(V4, [Tcp("narrow", "10.1.2.0/24", 443), Tcp("wide", "10.0.0.0/8", 443)]);
        Assert.Contains("10.1.2.0-10.1.2.255 . tcp . 443 \"narrow\" [narrow,wide]", Texts(reversed));
    }

    [Fact]
    public void Overlapping_port_ranges_split_by_port_and_the_same_entry_joins_its_pieces()
    {
        var model = new AllowSetModel(V4, [Tcp("a", "192.0.2.1/32", 1000, 2000), Tcp("b", "192.0.2.1/32", 1500, 2500), Tcp("a", "192.0.2.1/32", 2001, 2100)]);
        Assert.Equal([
            "192.0.2.1 . tcp . 1000-1499 \"a\" [a]",
            "192.0.2.1 . tcp . 1500-2100 \"a\" [a,b]",
            "192.0.2.1 . tcp . 2101-2500 \"b\" [b]",
        ], Texts(model));
    }

    [Fact]
    public void Different_protocols_never_overlap_and_identical_grants_are_one_element()
    {
        var model = new AllowSetModel(V4, [Tcp("a", "192.0.2.0/24", 53), Udp("b", "192.0.2.0/24", 53), Tcp("a", "192.0.2.0/24", 53)]);
        Assert.Equal([
            "192.0.2.0-192.0.2.255 . tcp . 53 \"a\" [a]",
            "192.0.2.0-192.0.2.255 . udp . 53 \"b\" [b]",
        ], Texts(model));
    }

    [Fact]
    public void The_timeout_is_the_latest_expiry_and_a_permanent_contributor_makes_it_permanent()
    {
        var model = new AllowSetModel(V4, [
            Tcp("w1", "192.0.2.0/24", 22, 0, Now.AddSeconds(30)), Tcp("w2", "192.0.2.0/25", 22, 0, Now.AddSeconds(90)),
            Tcp("w1", "198.51.100.0/24", 22, 0, Now.AddSeconds(30)), Tcp("p", "198.51.100.7/32", 22),
        ]);
        Assert.Equal([
            "192.0.2.0-192.0.2.127 . tcp . 22 \"w1\" [w1@30,w2@90] timeout 90s",
            "192.0.2.128-192.0.2.255 . tcp . 22 \"w1\" [w1@30] timeout 30s",
            "198.51.100.0-198.51.100.6 . tcp . 22 \"w1\" [w1@30] timeout 30s",
            "198.51.100.7 . tcp . 22 \"w1\" [w1@30,p]",
            "198.51.100.8-198.51.100.255 . tcp . 22 \"w1\" [w1@30] timeout 30s",
        ], Texts(model));
        // Later, what expired is gone and the rest counts down from then.
        Assert.Equal([
            "192.0.2.0-192.0.2.127 . tcp . 22 \"w1\" [w1@30,w2@90] timeout 30s",
            "198.51.100.7 . tcp . 22 \"w1\" [w1@30,p]",
        ], model.Elements(Now.AddSeconds(60)).Select(e => Text(e, V4, Now.AddSeconds(60))).ToArray());
    }

    [Fact]
    public void Whole_address_space_and_whole_port_range_are_planned_without_overflow()
    {
        var v6 = new AllowSetModel(V6, [Tcp("any", "::/0", 1, 65535), Tcp("one", "2001:db8::1/128", 443), Tcp("top", "ffff::/16", 65535)]);
        Assert.Equal([
            "::-2001:db8:: . tcp . 1-65535 \"any\" [any]",
            "2001:db8::1 . tcp . 1-442 \"any\" [any]",
            "2001:db8::1 . tcp . 443 \"any\" [any,one]",
            "2001:db8::1 . tcp . 444-65535 \"any\" [any]",
            "2001:db8::2-fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff . tcp . 1-65535 \"any\" [any]",
            "ffff::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff . tcp . 1-65534 \"any\" [any]",
            "ffff::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff . tcp . 65535 \"any\" [any,top]",
        ], Texts(v6));
        var v4 = new AllowSetModel(V4, [Tcp("any", "0.0.0.0/0", 1, 65535), Udp("top", "255.255.255.255/32", 65535)]);
        Assert.Equal(["0.0.0.0-255.255.255.255 . tcp . 1-65535 \"any\" [any]", "255.255.255.255 . udp . 65535 \"top\" [top]"], Texts(v4));
    }

    [Fact]
    public void Grants_of_the_other_family_or_protocol_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new AllowSetModel(V4, [Tcp("a", "2001:db8::/32", 443)]));
        Assert.Throws<ArgumentException>(() => new AllowSetModel(V4, [new AllowGrant("a", IPNetwork.Parse("192.0.2.0/24"), ProtocolType.Icmp, new PortRange(1, 1))]));
    }

    [Fact]
    public void Too_many_permanent_entries_on_one_element_is_a_clear_error_not_lost_userdata()
    {
        var grants = Enumerable.Range(0, 40).Select(i => Tcp($"entry-number-{i}", "192.0.2.1/32", 443)).ToList();
        // Timed grants on top change nothing: the permanent ones alone do not fit.
        grants.Add(Tcp("window", "192.0.2.1/32", 443, 0, Now.AddMinutes(5)));
        var error = Assert.Throws<ElementUserDataOverflowException>(() => new AllowSetModel(V4, grants).Elements(Now));
        Assert.Equal(40, error.Entries.Count);
        Assert.DoesNotContain("window", error.Entries);
        Assert.Equal("192.0.2.1 . tcp . 443", error.Element);
        Assert.Contains("40 entries (entry-number-0, entry-number-1,", error.Message);
        Assert.Contains("the kernel keeps at most 256", error.Message);
    }

    /// <summary>
    /// A dozen entries whose names resolve to one CDN address: the element lists every permanent contributor, then the
    /// timed ones that expire last, and counts the rest; a model rebuilt from it keeps the element's timeout.
    /// </summary>
    [Fact]
    public void An_element_shared_by_more_timed_grants_than_its_userdata_can_name_lists_the_permanent_and_latest_and_counts_the_rest()
    {
        var grants = new List<AllowGrant> { Tcp("static-destination", "192.0.2.1/32", 443) };
        // cdn-service-00 expires first, cdn-service-15 last (and so makes the element's timeout).
        grants.AddRange(Enumerable.Range(0, 16).Select(i => Tcp($"cdn-service-{i:00}", "192.0.2.1/32", 443, 0, Now.AddSeconds(100 + i))));
        var model = new AllowSetModel(V4, grants);
        var element = Assert.Single(model.Elements(Now));
        Assert.True(element.UserData!.Value.Span.Length <= RuleUserData.MaxBytes);
        Assert.Equal("static-destination", element.Comment);
        Assert.Null(element.Timeout); // permanent: the static destination is

        var listed = GrantUserData.Decode(element.UserData.Value.Span, null).Select(c => c.Entry).ToList();
        Assert.Equal("static-destination", listed[0]);
        int timedListed = listed.Count - 1;
        Assert.InRange(timedListed, 5, 15);
        // The latest-expiring ones, written in policy order.
        Assert.Equal(Enumerable.Range(16 - timedListed, timedListed).Select(i => $"cdn-service-{i:00}"), listed.Skip(1));
        Assert.Equal(16 - timedListed, GrantUserData.Unlisted(element.UserData.Value.Span));
        Assert.Equal([(ProtocolType.Tcp, new PortRange(443, 443))], AllowSetModel.UnlistedServices(V4, [element]));

        // Timed only: the element's timeout is the latest expiry, and a model rebuilt from the element says the same.
        var timedOnly = new AllowSetModel(V4, grants.Skip(1));
        var timedElement = Assert.Single(timedOnly.Elements(Now));
        Assert.Equal(TimeSpan.FromSeconds(115), timedElement.Timeout);
        var rebuilt = AllowSetModel.FromKernel(V4, [timedElement with { Expiration = timedElement.Timeout }], Now);
        Assert.Equal(Now.AddSeconds(115), rebuilt.Grants.Max(g => g.Expires));
        Assert.Contains(rebuilt.Grants, g => g.Entry == "cdn-service-15");
        Assert.DoesNotContain(rebuilt.Grants, g => g.Entry == "cdn-service-00");
        // Re-planned, it names the same entries and no longer counts the ones it never knew.
        var replanned = Assert.Single(rebuilt.Elements(Now));
        Assert.Equal(GrantUserData.Decode(timedElement.UserData!.Value.Span, null), GrantUserData.Decode(replanned.UserData!.Value.Span, null));
        Assert.Equal(0, GrantUserData.Unlisted(replanned.UserData.Value.Span));

        // Nothing shared beyond the limit: no count.
        var few = Assert.Single(new AllowSetModel(V4, grants.Take(4)).Elements(Now));
        Assert.Equal(0, GrantUserData.Unlisted(few.UserData!.Value.Span));
        Assert.Empty(AllowSetModel.UnlistedServices(V4, [few]));
    }

    [Fact]
    public void Adding_one_address_touches_only_its_region()
    {
        var grants = Enumerable.Range(0, 2000).Select(i => Tcp($"e{i}", $"10.0.{i / 250}.{i % 250}/32", 443)).ToList();
        var model = new AllowSetModel(V4, grants);
        var delta = model.Change([Tcp("new", "10.0.3.7/32", 443, 0, Now.AddMinutes(5))], [], Now);
        Assert.Equal(["10.0.3.7 . tcp . 443 \"e757\" [e757,new@300]"], delta.Add.Select(e => Text(e, V4)));
        Assert.Single(delta.Remove);
        Assert.Equal(Key("10.0.3.7", 443), delta.Remove[0].Key);

        var add = model.Change([Tcp("new", "192.0.2.0/24", 22)], [], Now);
        Assert.Empty(add.Remove);
        Assert.Equal(["192.0.2.0-192.0.2.255 . tcp . 22 \"new\" [new]"], add.Add.Select(e => Text(e, V4)));

        var back = model.Change([], [Tcp("new", "10.0.3.7/32", 443, 0, Now.AddMinutes(5)), Tcp("new", "192.0.2.0/24", 22)], Now);
        Assert.Equal(["10.0.3.7 . tcp . 443 \"e757\" [e757]"], back.Add.Select(e => Text(e, V4)));
        Assert.Equal(2, back.Remove.Count);
        Assert.Equal(new AllowSetModel(V4, grants).Elements(Now), model.Elements(Now));
    }

    [Fact]
    public void A_model_rebuilt_from_its_elements_plans_the_same_elements_and_can_change()
    {
        var model = new AllowSetModel(V4, [
            Tcp("wide", "10.0.0.0/8", 443), Tcp("narrow", "10.1.2.0/24", 443, 0, Now.AddSeconds(50)), Udp("dns", "10.1.2.3/32", 53),
            Tcp("narrow", "10.1.2.128/25", 80, 90),
        ]);
        var rebuilt = AllowSetModel.FromKernel(V4, model.Elements(Now), Now);
        Assert.Equal(model.Elements(Now), rebuilt.Elements(Now));
        // The rebuilt model cuts a removed grant out of the entry's pieces.
        var delta = rebuilt.Change([], [Tcp("wide", "10.0.0.0/8", 443)], Now);
        Assert.Equal(["10.1.2.0-10.1.2.255 . tcp . 443 \"narrow\" [narrow@50] timeout 50s"], delta.Add.Select(e => Text(e, V4)));
        // A udp grant does not split tcp elements; the /25's own ports are an element of their own.
        Assert.Equal([
            "10.0.0.0-10.1.1.255 . tcp . 443 \"wide\" [wide]",
            "10.1.2.0-10.1.2.255 . tcp . 443 \"wide\" [wide,narrow@50]",
            "10.1.2.3 . udp . 53 \"dns\" [dns]",
            "10.1.2.128-10.1.2.255 . tcp . 80-90 \"narrow\" [narrow]",
            "10.1.3.0-10.255.255.255 . tcp . 443 \"wide\" [wide]",
        ], Texts(model));
        Assert.Equal(3, delta.Remove.Count);
    }

    [Fact]
    public void Elements_written_by_policies_that_order_the_entries_differently_keep_every_entry()
    {
        // One policy lists x before y, another y before x (a reload that reordered the entries, another writer): the
        // elements' contributor lists contradict each other, and no rank order satisfies both. None may be lost.
        var xFirst = new AllowSetModel(V4, [Tcp("x", "203.0.113.7/32", 443), Tcp("y", "203.0.113.7/32", 443)]);
        var yFirst = new AllowSetModel(V4, [Tcp("y", "203.0.113.8/32", 443), Tcp("x", "203.0.113.8/32", 443), Tcp("z", "203.0.113.9/32", 443)]);
        var rebuilt = AllowSetModel.FromKernel(V4, [.. xFirst.Elements(Now), .. yFirst.Elements(Now)], Now);
        Assert.Equal([
            "203.0.113.7 x", "203.0.113.7 y", "203.0.113.8 x", "203.0.113.8 y", "203.0.113.9 z",
        ], rebuilt.Grants.Select(g => $"{g.Network.BaseAddress} {g.Entry}").Order(StringComparer.Ordinal));
        // Ranked by first appearance where the orders contradict: x (listed first) before y.
        Assert.Equal([
            "203.0.113.7 . tcp . 443 \"x\" [x,y]",
            "203.0.113.8 . tcp . 443 \"x\" [x,y]",
            "203.0.113.9 . tcp . 443 \"z\" [z]",
        ], Texts(rebuilt));
    }

    [Fact]
    public void An_element_added_by_hand_is_attributed_to_its_comment()
    {
        var element = SetElement.Of(IPAddress.Parse("192.0.2.9"), ProtocolType.Tcp, SetKeyField.Port(8443)) with { Comment = "manual", Expiration = TimeSpan.FromSeconds(20) };
        var model = AllowSetModel.FromKernel(V4, SetElementKeys.Shape(V4, [element], add: true), Now);
        Assert.Equal(["192.0.2.9 . tcp . 8443 \"manual\" [manual@20] timeout 20s"], Texts(model));
    }

    private static readonly DateTimeOffset Soon = Now.AddSeconds(30), Later = Now.AddSeconds(90);

    [Fact]
    public void An_expiry_moved_in_place_gives_the_elements_and_refreshes_that_removing_and_adding_the_grants_gives()
    {
        AllowGrant[] others = [Tcp("wide", "10.0.0.0/8", 80), Tcp("cdn", "192.0.2.9/32", 443, expires: Soon)];
        AllowGrant[] old = [Tcp("cdn", "192.0.2.1/32", 443, expires: Soon), Udp("cdn", "192.0.2.1/32", 53, expires: Soon)];
        var renewed = old.Select(g => g with { Expires = Later }).ToArray();
        var general = new AllowSetModel(V4, [.. others, .. old]);
        var inPlace = new AllowSetModel(V4, [.. others, .. old]);
        var expected = general.Change(renewed, old, Now, refreshInPlace: true);
        Assert.True(inPlace.TryMoveExpiry("cdn", IPAddress.Parse("192.0.2.1"), [new PortRange(443, 443)], [new PortRange(53, 53)], Later, Now));
        Assert.True(inPlace.HasPendingRefresh);
        var moved = inPlace.Change([], [], Now, refreshInPlace: true);
        Assert.False(inPlace.HasPendingRefresh);
        Assert.Empty(moved.Remove);
        Assert.Empty(moved.Add);
        Assert.Empty(expected.Remove);
        Assert.Empty(expected.Add);
        Assert.Equal(2, moved.Refresh.Count);
        Assert.Equal(Sent(expected.Refresh).Select(e => (Text(e, V4), e.Expiration)).Order(), Sent(moved.Refresh).Select(e => (Text(e, V4), e.Expiration)).Order());
        Assert.Equal(Texts(general), Texts(inPlace));
        // Moving it again to the same expiry changes nothing and refreshes nothing.
        Assert.True(inPlace.TryMoveExpiry("cdn", IPAddress.Parse("192.0.2.1"), [new PortRange(443, 443)], [new PortRange(53, 53)], Later, Now));
        Assert.Empty(inPlace.Change([], [], Now, refreshInPlace: true).Refresh.Elements);
    }

    [Fact]
    public void Elements_whose_expiry_moves_in_place_round_after_round_are_the_elements_a_fresh_model_makes()
    {
        // As in the daemon: the elements were made once (the apply), then each refresh round moves their expiry; from
        // the second round on, the element made the round before is reused with the new timeout (its key and userdata).
        AllowGrant[] held = [Tcp("cdn", "192.0.2.1/32", 443, expires: Soon), Udp("cdn", "192.0.2.1/32", 53, expires: Soon)];
        var model = new AllowSetModel(V4, held);
        model.Elements(Now);
        foreach (var expires in new[] { Later, Later.AddSeconds(30), Later.AddMinutes(5) })
        {
            Assert.True(model.TryMoveExpiry("cdn", IPAddress.Parse("192.0.2.1"), [new PortRange(443, 443)], [new PortRange(53, 53)], expires, Now));
            var refreshed = Sent(model.Change([], [], Now, refreshInPlace: true).Refresh).OrderBy(e => Text(e, V4)).ToList();
            var fresh = new AllowSetModel(V4, held.Select(g => g with { Expires = expires })).Elements(Now).OrderBy(e => Text(e, V4)).ToList();
            Assert.Equal(2, refreshed.Count);
            Assert.Equal(fresh, refreshed); // key, end, timeout and userdata bytes
            Assert.All(refreshed, e => Assert.Equal(e.Timeout, e.Expiration));
        }
    }

    public static TheoryData<string, string> RefusedMoves => new()
    {
        { "another entry's network covers the address", "other" },
        { "the grant is permanent (a literal destination)", "permanent" },
        { "the entry's ports are not the ones held", "ports" },
        { "the grants held have different expiries", "expiries" },
        { "the new expiry is already past", "past" },
        { "nothing is held at the address", "nothing" },
    };

    [Theory]
    [MemberData(nameof(RefusedMoves))]
    public void An_expiry_is_not_moved_in_place_when_the_general_path_would_plan_otherwise(string why, string kind)
    {
        List<AllowGrant> grants = kind switch
        {
            "other" => [Tcp("cdn", "192.0.2.1/32", 443, expires: Soon), Tcp("lan", "192.0.2.0/24", 22)],
            "permanent" => [Tcp("cdn", "192.0.2.1/32", 443)],
            "expiries" => [Tcp("cdn", "192.0.2.1/32", 443, expires: Soon), Tcp("cdn", "192.0.2.1/32", 444, expires: Later)],
            "nothing" => [Tcp("cdn", "192.0.2.2/32", 443, expires: Soon)],
            _ => [Tcp("cdn", "192.0.2.1/32", 443, expires: Soon)],
        };
        PortRange[] tcp = kind switch { "ports" => [new PortRange(443, 443), new PortRange(8443, 8443)], "expiries" => [new PortRange(443, 443), new PortRange(444, 444)], _ => [new PortRange(443, 443)] };
        var model = new AllowSetModel(V4, grants);
        var before = Texts(model);
        Assert.False(model.TryMoveExpiry("cdn", IPAddress.Parse("192.0.2.1"), tcp, [], kind == "past" ? Now.AddMilliseconds(-1) : Later, Now), why);
        Assert.False(model.HasPendingRefresh);
        Assert.Equal(before, Texts(model));
    }

    [Fact]
    public void A_moved_element_that_the_same_change_replaces_is_deleted_not_refreshed()
    {
        // Another entry gets the same address in the same round: the element is planned anew with two contributors.
        var model = new AllowSetModel(V4, [Tcp("cdn", "192.0.2.1/32", 443, expires: Soon)]);
        Assert.True(model.TryMoveExpiry("cdn", IPAddress.Parse("192.0.2.1"), [new PortRange(443, 443)], [], Later, Now));
        var delta = model.Change([Tcp("mirror", "192.0.2.1/32", 443, expires: Soon)], [], Now, refreshInPlace: true);
        Assert.Single(delta.Remove);
        Assert.Equal(["192.0.2.1 . tcp . 443 \"cdn\" [cdn@90,mirror@30] timeout 90s"], delta.Add.Select(e => Text(e, V4)));
        Assert.Empty(delta.Refresh.Elements);
    }

    /// <summary>
    /// The elements as <see cref="Transaction.RetimeElements"/> sends them: each with its new timeout as timeout and
    /// time left (<c>RetimeElementsTests</c> holds the encoder to the same bytes).
    /// </summary>
    internal static List<SetElement> Sent(RetimedElements refresh) =>
        refresh.Elements.Select((e, i) => e with { Timeout = refresh.Timeouts[i], Expiration = refresh.Timeouts[i] }).ToList();

    private static DataValue Key(string address, ushort port) =>
        new([.. IPAddress.Parse(address).GetAddressBytes(), 6, 0, 0, 0, (byte)(port >> 8), (byte)port, 0, 0]);

    /// <summary>An element's box, decoded from its key bytes.</summary>
    internal readonly record struct Decoded(IPAddress First, IPAddress Last, byte Protocol, ushort FirstPort, ushort LastPort)
    {
        public static Decoded Of(SetElement e, NftSet set)
        {
            int n = set.Key[0] == SetKeyType.Ipv4Address ? 4 : 16;
            var k = e.Key.Span;
            var end = (e.KeyEnd ?? e.Key).Span;
            return new(new IPAddress(k[..n]), new IPAddress(end[..n]), k[n], (ushort)(k[n + 4] << 8 | k[n + 5]), (ushort)(end[n + 4] << 8 | end[n + 5]));
        }
    }
}
