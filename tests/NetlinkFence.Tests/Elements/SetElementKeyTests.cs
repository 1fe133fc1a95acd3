using System.Net;
using System.Net.Sockets;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.Golden;

namespace NetlinkFence.Tests.Elements;

/// <summary>
/// The typed key builder (<see cref="SetElement.Of"/>): the elements it yields for each kind of set are the ones
/// nft 1.0.6 sends (the raw elements of the golden cases, and nft's interval rules where no golden exists), and a
/// key that does not fit the set's declared type is refused with a message that says why.
/// </summary>
public sealed class SetElementKeyTests
{
    private const NftFamily Inet = NftFamily.Inet;
    private const string T = "netlinkfence";

    private static NftSet Set(string name, SetFlags flags, params SetKeyType[] key) => new(Inet, T, name, key, flags);
    private static SetElement Raw(params byte[] key) => new(new DataValue(key));
    private static IPAddress Ip(string text) => IPAddress.Parse(text);
    private static IPNetwork Net(string text) => IPNetwork.Parse(text);

    /// <summary>The elements a transaction would send for <paramref name="elements"/>.</summary>
    private static IReadOnlyList<SetElement> Sent(NftSet set, params SetElement[] elements)
    {
        var tx = new Transaction().AddElements(set, elements);
        return tx.Operations[0].Elements!;
    }

    private static byte[][] Golden(string name, Transaction built) =>
        GoldenBytesTests.WithCompletionFlags(File.ReadAllLines(Path.Combine(GoldenBytesTests.GoldenDirectory, name + ".hex")).Where(l => l.Length > 0)
            .Select(l => GoldenBytesTests.Mask(Convert.FromHexString(l))).ToArray(), TransactionEncoder.EchoesGeneration(built, generationChecked: false));

    private static void AssertBatch(string golden, Transaction built)
    {
        var expected = Golden(golden, built);
        var actual = GoldenBytesTests.Encode(built).Select(GoldenBytesTests.Mask).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(Convert.ToHexStringLower(expected[i]), Convert.ToHexStringLower(actual[i]));
    }

    // ---- the builder reproduces the goldens that were written with raw bytes ----------------------------

    [Fact]
    public void Ipv4_value_is_the_golden_element_ipv4()
    {
        var set = Set("dns_v4", SetFlags.None, SetKeyType.Ipv4Address);
        AssertBatch("element-ipv4", new Transaction().AddTable(new Table(Inet, T)).AddSet(set)
            .AddElements(set, [SetElement.Of(Ip("192.168.1.10"))]));
    }

    [Fact]
    public void Cidr_is_the_golden_element_interval_start_and_exclusive_end()
    {
        var set = Set("nets_v4", SetFlags.Interval, SetKeyType.Ipv4Address);
        var cidr = SetElement.Of(Net("10.0.0.0/8"));
        Assert.Equal([Raw(10, 0, 0, 0), Raw(11, 0, 0, 0) with { IntervalEnd = true }], Sent(set, cidr));
        AssertBatch("element-interval", new Transaction().AddTable(new Table(Inet, T)).AddSet(set)
            .AddElements(set, [Raw(0, 0, 0, 0) with { IntervalEnd = true }, cidr])
            .AddElements(set, [cidr]));
    }

    [Fact]
    public void One_value_in_a_concatenated_interval_set_is_the_golden_element_concat_interval()
    {
        var set = Set("allow_tcp_v4", SetFlags.Interval, SetKeyType.Ipv4Address, SetKeyType.InetService);
        AssertBatch("element-concat-interval", new Transaction().AddTable(new Table(Inet, T)).AddSet(set)
            .AddElements(set, [SetElement.Of(Ip("203.0.113.50"), SetKeyField.Port(443))]));
    }

    [Fact]
    public void Timeout_is_the_golden_element_timeout()
    {
        var set = Set("updates_v4", SetFlags.Timeout, SetKeyType.Ipv4Address) with { Timeout = TimeSpan.FromHours(1) };
        AssertBatch("element-timeout", new Transaction().AddTable(new Table(Inet, T)).AddSet(set)
            .AddElements(set, [SetElement.Of(Ip("151.101.2.132")) with { Timeout = TimeSpan.FromMinutes(10) }]));
    }

    // ---- key layout -----------------------------------------------------------------------------------

    [Fact]
    public void Concatenation_pads_every_field_to_a_register_and_a_single_field_is_not_padded()
    {
        var element = SetElement.Of(Ip("203.0.113.7"), ProtocolType.Tcp, SetKeyField.Port(443));
        Assert.Equal("0xcb00710706000000" + "01bb0000", element.Key.ToString());
        Assert.Null(element.KeyEnd);
        Assert.Equal("0x01bb", SetElement.Of(SetKeyField.Port(443)).Key.ToString());
        Assert.Equal("0x06", SetElement.Of(ProtocolType.Tcp).Key.ToString());
        Assert.Equal("0x20010db8000000000000000000000007", SetElement.Of(Ip("2001:db8::7")).Key.ToString());
        // marks are host order, as nft stores meta keys
        Assert.Equal("0x04030201", SetElement.Of(SetKeyField.Mark(0x01020304)).Key.ToString());
    }

    [Fact]
    public void Concatenated_range_carries_the_inclusive_last_values_in_key_end()
    {
        var element = SetElement.Of(Net("2001:db8::/32"), SetKeyField.Ports(1000, 2000));
        Assert.Equal("0x20010db8000000000000000000000000" + "03e80000", element.Key.ToString());
        Assert.Equal("0x20010db8ffffffffffffffffffffffff" + "07d00000", element.KeyEnd!.Value.ToString());
    }

    // ---- non-concatenated interval sets: exclusive end, and the overflow at the maximum ------------------

    [Fact]
    public void One_value_in_an_interval_set_becomes_a_one_value_interval_with_carry()
    {
        var set = Set("nets_v4", SetFlags.Interval, SetKeyType.Ipv4Address);
        Assert.Equal([Raw(10, 0, 0, 255), Raw(10, 0, 1, 0) with { IntervalEnd = true }], Sent(set, SetElement.Of(Ip("10.0.0.255"))));
        var marks = Set("marks", SetFlags.Interval, SetKeyType.Mark);
        // host order: the carry runs from the first byte up
        Assert.Equal([Raw(0xff, 0, 0, 0), Raw(0, 1, 0, 0) with { IntervalEnd = true }], Sent(marks, SetElement.Of(SetKeyField.Mark(0xff))));
    }

    /// <summary>libnftnl's NFTNL_UDATA_SET_ELEM_FLAGS TLV holding NFTNL_SET_ELEM_F_INTERVAL_OPEN (golden element-interval-overflow).</summary>
    private static readonly DataValue Open = new([1, 4, 1, 0, 0, 0]);

    [Theory]
    [InlineData("255.255.255.0/24", "ffffff00")]
    [InlineData("0.0.0.0/0", "00000000")]
    [InlineData("255.255.255.255/32", "ffffffff")]
    public void Range_to_the_largest_address_is_sent_open_without_an_end_element(string cidr, string start)
    {
        var set = Set("nets_v4", SetFlags.Interval, SetKeyType.Ipv4Address);
        var sent = Sent(set, SetElement.Of(Net(cidr)));
        Assert.Equal([new SetElement(new DataValue(Convert.FromHexString(start))) { UserData = Open }], sent);
    }

    [Fact]
    public void Port_range_to_65535_and_ipv6_default_route_are_open_too()
    {
        var ports = Set("ports", SetFlags.Interval, SetKeyType.InetService);
        Assert.Equal([Raw(0xfd, 0xe8) with { UserData = Open }], Sent(ports, SetElement.Of(SetKeyField.Ports(65000, 65535))));
        Assert.Equal([Raw(0xfd, 0xe8), Raw(0xfd, 0xe9) with { IntervalEnd = true }], Sent(ports, SetElement.Of(SetKeyField.Port(65000))));
        var v6 = Set("nets_v6", SetFlags.Interval, SetKeyType.Ipv6Address);
        Assert.Equal([new SetElement(new DataValue(new byte[16])) { UserData = Open }], Sent(v6, SetElement.Of(Net("::/0"))));
    }

    [Fact]
    public void Open_flag_follows_the_comment_and_the_end_element_carries_neither_comment_nor_timeout()
    {
        var set = Set("nets_v4", SetFlags.Interval | SetFlags.Timeout, SetKeyType.Ipv4Address);
        var open = Sent(set, SetElement.Of(Net("255.0.0.0/8")) with { Comment = "x" });
        Assert.Equal("0x00027800" + "010401000000", open.Single().UserData!.Value.ToString());
        Assert.Equal("x", open.Single().Comment);
        var pair = Sent(set, SetElement.Of(Net("10.0.0.0/8")) with { Comment = "x", Timeout = TimeSpan.FromMinutes(5) });
        Assert.Equal(2, pair.Count);
        Assert.Equal(("x", TimeSpan.FromMinutes(5)), (pair[0].Comment, pair[0].Timeout!.Value));
        Assert.Null(pair[1].UserData);
        Assert.Null(pair[1].Timeout);
        Assert.True(pair[1].IntervalEnd);
    }

    [Fact]
    public void Deleting_one_value_of_a_concatenated_interval_set_sends_the_key_alone_as_nft_does()
    {
        var set = Set("allow_tcp_v4", SetFlags.Interval, SetKeyType.Ipv4Address, SetKeyType.InetService);
        var element = SetElement.Of(Ip("10.0.0.1"), SetKeyField.Port(80));
        var deleted = new Transaction().DeleteElements(set, [element]).Operations[0].Elements!;
        Assert.Null(Assert.Single(deleted).KeyEnd);
        Assert.Equal(element.Key, Assert.Single(Sent(set, element)).KeyEnd);
    }

    [Fact]
    public void Raw_elements_pass_through_as_the_same_list()
    {
        var set = Set("nets_v4", SetFlags.Interval, SetKeyType.Ipv4Address);
        SetElement[] raw = [Raw(10, 0, 0, 0), Raw(11, 0, 0, 0) with { IntervalEnd = true }];
        Assert.Same(raw, new Transaction().AddElements(set, raw).Operations[0].Elements);
    }

    // ---- checks against the declared key ----------------------------------------------------------------

    [Fact]
    public void Ipv6_address_into_an_ipv4_set_is_refused_naming_both_types()
    {
        var set = Set("dns_v4", SetFlags.None, SetKeyType.Ipv4Address);
        var error = Assert.Throws<ArgumentException>(() => new Transaction().AddElements(set, [SetElement.Of(Ip("2001:db8::1"))]));
        Assert.Contains("2001:db8::1", error.Message);
        Assert.Contains("is ipv6_addr", error.Message);
        Assert.Contains("set inet netlinkfence dns_v4 has key ipv4_addr", error.Message);
    }

    [Fact]
    public void Wrong_field_count_wrong_field_order_and_range_in_a_hash_set_are_refused()
    {
        var flows = Set("flows", SetFlags.None, SetKeyType.Ipv4Address, SetKeyType.InetProto, SetKeyType.InetService);
        var count = Assert.Throws<ArgumentException>(() => new Transaction().AddElements(flows, [SetElement.Of(Ip("10.0.0.1"), SetKeyField.Port(443))]));
        Assert.Contains("has 2 field(s)", count.Message);
        Assert.Contains("ipv4_addr . inet_proto . inet_service", count.Message);
        var order = Assert.Throws<ArgumentException>(() => new Transaction().DeleteElements(flows, [SetElement.Of(Ip("10.0.0.1"), SetKeyField.Port(443), ProtocolType.Tcp)]));
        Assert.Contains("field 2 (443) is inet_service", order.Message);
        var hash = Set("dns_v4", SetFlags.None, SetKeyType.Ipv4Address);
        var range = Assert.Throws<ArgumentException>(() => new Transaction().AddElements(hash, [SetElement.Of(Net("10.0.0.0/8"))]));
        Assert.Contains("10.0.0.0/8 is a range", range.Message);
        Assert.Contains("not an interval set", range.Message);
    }

    [Fact]
    public void Reversed_ranges_and_mixed_families_are_refused_when_built()
    {
        Assert.Throws<ArgumentException>(() => SetKeyField.Ports(2000, 1000));
        Assert.Throws<ArgumentException>(() => SetKeyField.AddressRange(Ip("10.0.0.9"), Ip("10.0.0.1")));
        Assert.Throws<ArgumentException>(() => SetKeyField.AddressRange(Ip("10.0.0.1"), Ip("::1")));
        Assert.Throws<ArgumentException>(() => SetElement.Of());
        Assert.Equal("10.0.0.1-10.0.0.9", SetKeyField.AddressRange(Ip("10.0.0.1"), Ip("10.0.0.9")).ToString());
        Assert.Equal("10.0.0.0/8", SetKeyField.Network(Net("10.0.0.0/8")).ToString());
    }

    // ---- references --------------------------------------------------------------------------------------

    /// <summary>What the commit does with a reference: the kernel's declaration of the set stands in for it.</summary>
    private static Transaction Resolved(Transaction tx, NftSet kernelSet) =>
        tx.ResolveReferencesAsync(_ => ValueTask.FromResult(kernelSet)).AsTask().GetAwaiter().GetResult();

    [Fact]
    public void A_reference_writes_the_same_element_messages_as_the_full_set_once_resolved()
    {
        var full = Set("allow_tcp_v4", SetFlags.Interval, SetKeyType.Ipv4Address, SetKeyType.InetService);
        var reference = NftSet.Reference(Inet, T, "allow_tcp_v4");
        var range = SetElement.Of(Net("10.0.0.0/8"), SetKeyField.Ports(1000, 2000));
        var single = SetElement.Of(Ip("192.0.2.1"), SetKeyField.Port(443));
        var viaReference = new Transaction().AddElements(reference, [range, single]).DeleteElements(reference, [range]);
        Assert.True(viaReference.HasUnresolvedReferences);
        // Never encoded as it is: a single value would go out as one element.
        Assert.Throws<InvalidOperationException>(() => GoldenBytesTests.Encode(viaReference));
        Assert.Equal(GoldenBytesTests.Encode(new Transaction().AddElements(full, [range, single]).DeleteElements(full, [range])),
            GoldenBytesTests.Encode(Resolved(viaReference, full)));
    }

    [Fact]
    public void A_single_value_through_a_reference_follows_the_set_the_kernel_has()
    {
        var value = SetElement.Of(Ip("192.0.2.1"));
        var reference = NftSet.Reference(Inet, T, "s"); // says nothing of the set's flags
        var tx = new Transaction().AddElements(reference, [value]);
        Assert.Equal([Raw(192, 0, 2, 1), Raw(192, 0, 2, 2) with { IntervalEnd = true }],
            Resolved(tx, Set("s", SetFlags.Interval, SetKeyType.Ipv4Address)).Operations[0].Elements!);
        Assert.Equal([Raw(192, 0, 2, 1)], Resolved(tx, Set("s", SetFlags.None, SetKeyType.Ipv4Address)).Operations[0].Elements!);
        // The kernel's key types are checked as for a full set.
        Assert.Throws<ArgumentException>(() => Resolved(tx, Set("s", SetFlags.None, SetKeyType.Ipv6Address)));
        // A set added earlier in the same transaction stands in without asking the kernel.
        var added = Set("s", SetFlags.Interval, SetKeyType.Ipv4Address);
        var sameTx = new Transaction().AddSet(added).AddElements(reference, [value]);
        var resolved = sameTx.ResolveReferencesAsync(_ => throw new InvalidOperationException("asked the kernel")).AsTask().GetAwaiter().GetResult();
        Assert.Equal(2, resolved.Operations[1].Elements!.Count);
        Assert.Equal(resolved.Operations[0].SetId, resolved.Operations[1].SetId);
    }

    [Fact]
    public void A_reference_cannot_be_created_and_has_no_key_to_check()
    {
        var reference = NftSet.Reference(Inet, T, "s");
        Assert.True(reference.IsReference);
        Assert.Empty(reference.Key);
        Assert.Contains("reference", Assert.Throws<ArgumentException>(() => new Transaction().AddSet(reference)).Message);
        Assert.Throws<ArgumentException>(() => NftSet.Reference(Inet, T, ""));
        Assert.False(Set("s", SetFlags.None, SetKeyType.Mark).IsReference);
    }
}
