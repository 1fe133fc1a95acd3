using System.Net;
using System.Net.Sockets;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Tests.Policy.Layout;

/// <summary>
/// Random grants in a small space (one /24, ports 1..24, five entries, a few expiries), fixed seeds so a failure
/// reproduces: the elements are pairwise disjoint; at random probe points the contributors of the element holding the
/// point are exactly the grants covering it; after random changes applied as deltas to a simulated set, the set equals
/// the model's elements and a model built from scratch, and a model rebuilt from the elements plans the same.
/// </summary>
public sealed class AllowSetModelPropertyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 6, 0, 0, TimeSpan.Zero);
    private static readonly string[] Entries = ["a", "b", "c", "d", "e"];
    private static readonly DateTimeOffset?[] Expiries = [null, null, Now.AddSeconds(10), Now.AddSeconds(20)];

    private static AllowGrant RandomGrant(Random random)
    {
        int prefix = random.Next(24, 33);
        uint address = 0xC0000200u | (uint)random.Next(256);
        address &= prefix == 32 ? uint.MaxValue : ~((1u << (32 - prefix)) - 1);
        var network = new IPNetwork(new IPAddress(BitConverter.GetBytes(address).Reverse().ToArray()), prefix);
        ushort first = (ushort)random.Next(1, 25), last = (ushort)random.Next(first, Math.Min(first + 8, 24) + 1);
        return new AllowGrant(Entries[random.Next(Entries.Length)], network, random.Next(2) == 0 ? ProtocolType.Tcp : ProtocolType.Udp,
            new PortRange(first, last), Expiries[random.Next(Expiries.Length)]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Elements_are_disjoint_and_hold_exactly_the_covering_grants(int seed)
    {
        var random = new Random(seed);
        var grants = Enumerable.Range(0, random.Next(1, 30)).Select(_ => RandomGrant(random)).ToList();
        var model = new AllowSetModel(AllowSetModelTests.V4, grants);
        var elements = model.Elements(Now);
        var boxes = elements.Select(e => (Box: AllowSetModelTests.Decoded.Of(e, AllowSetModelTests.V4), Element: e)).ToList();
        for (int i = 0; i < boxes.Count; i++)
            for (int j = i + 1; j < boxes.Count; j++)
                Assert.False(Overlap(boxes[i].Box, boxes[j].Box), $"{boxes[i].Box} overlaps {boxes[j].Box}");
        var order = grants.Select(g => g.Entry).Distinct().ToList();
        for (int probe = 0; probe < 2000; probe++)
        {
            var address = IPAddress.Parse($"192.0.2.{random.Next(256)}");
            byte protocol = random.Next(2) == 0 ? (byte)6 : (byte)17;
            ushort port = (ushort)random.Next(0, 27);
            var covering = grants.Where(g => g.Network.Contains(address) && (byte)g.Protocol == protocol && g.Ports.First <= port && port <= g.Ports.Last)
                .Select(g => (g.Entry, g.Expires)).Distinct().OrderBy(c => order.IndexOf(c.Entry)).ThenBy(c => c.Expires ?? DateTimeOffset.MinValue).ToList();
            var holding = boxes.Where(b => Contains(b.Box, address, protocol, port)).ToList();
            if (covering.Count == 0)
            {
                Assert.Empty(holding);
                continue;
            }
            var element = Assert.Single(holding).Element;
            Assert.Equal(covering, GrantUserData.Decode(element.UserData!.Value.Span, Now + element.Timeout));
            Assert.Equal(covering[0].Entry, element.Comment);
            Assert.Equal(covering.Any(c => c.Expires is null) ? null : covering.Max(c => c.Expires) - Now, element.Timeout);
        }
        Assert.Equal(elements, AllowSetModel.FromKernel(AllowSetModelTests.V4, elements, Now).Elements(Now));
    }

    [Theory]
    [InlineData(11, false)]
    [InlineData(12, false)]
    [InlineData(13, false)]
    [InlineData(14, false)]
    [InlineData(15, false)]
    [InlineData(16, false)]
    [InlineData(11, true)]
    [InlineData(12, true)]
    [InlineData(13, true)]
    [InlineData(14, true)]
    [InlineData(15, true)]
    [InlineData(16, true)]
    public void Random_changes_as_deltas_equal_a_model_built_from_scratch(int seed, bool refreshInPlace)
    {
        var (refreshed, _) = RandomChanges(seed, refreshInPlace);
        Assert.True(!refreshInPlace || refreshed > 0, "no step moved a timeout in place: the test did not test it");
    }

    [Fact]
    public void Expiries_moved_in_place_by_TryMoveExpiry_are_among_the_random_changes()
    {
        // The theory above checks every step; this says its seeds reach the in-place path at all.
        int moved = Enumerable.Range(11, 6).Sum(seed => RandomChanges(seed, refreshInPlace: true).MovedInPlace);
        Assert.True(moved >= 10, $"TryMoveExpiry moved only {moved} times over the seeds: the property test barely tests it");
    }

    private static (int Refreshed, int MovedInPlace) RandomChanges(int seed, bool refreshInPlace)
    {
        var random = new Random(seed);
        var held = Enumerable.Range(0, random.Next(0, 15)).Select(_ => RandomGrant(random)).ToList();
        var order = held.Select(g => g.Entry).Distinct().ToList();
        var model = new AllowSetModel(AllowSetModelTests.V4, held);
        var kernel = model.Elements(Now).ToDictionary(KernelKey);
        int refreshed = 0, movedInPlace = 0;
        for (int step = 0; step < 60; step++)
        {
            // A DNS refresh's steady state: the grants an entry holds at one address get a new expiry in place (the
            // model refuses when anything else is there); the step's change then carries the moved timeouts.
            if (refreshInPlace && held.Where(g => g.Expires is not null && g.Network.PrefixLength == 32).OrderBy(_ => random.Next()).FirstOrDefault() is { } pick)
            {
                var at = held.Where(g => g.Entry == pick.Entry && g.Network == pick.Network).ToList();
                var moved = pick.Expires == Expiries[2] ? Expiries[3]!.Value : Expiries[2]!.Value;
                if (model.TryMoveExpiry(pick.Entry, pick.Network.BaseAddress, at.Where(g => g.Protocol == ProtocolType.Tcp).Select(g => g.Ports).ToList(),
                    at.Where(g => g.Protocol == ProtocolType.Udp).Select(g => g.Ports).ToList(), moved, Now))
                {
                    for (int i = 0; i < held.Count; i++)
                        if (held[i].Entry == pick.Entry && held[i].Network == pick.Network)
                            held[i] = held[i] with { Expires = moved };
                    movedInPlace++;
                }
            }
            var add = Enumerable.Range(0, random.Next(0, 4)).Select(_ => RandomGrant(random)).ToList();
            var remove = held.Where(_ => random.Next(4) == 0).Take(3).ToList();
            // A DNS refresh: a timed grant comes back with another expiry.
            if (held.Where(g => g.Expires is not null && !remove.Contains(g)).OrderBy(_ => random.Next()).FirstOrDefault() is { } timed)
            {
                remove.Add(timed);
                add.Add(timed with { Expires = timed.Expires == Expiries[2] ? Expiries[3] : Expiries[2] });
            }
            foreach (var g in remove)
                held.Remove(g);
            held.AddRange(add);
            order.AddRange(add.Select(g => g.Entry).Where(e => !order.Contains(e)).Distinct());
            var delta = model.Change(add, remove, Now, refreshInPlace);
            // One transaction: deletes, then adds; a delete of a missing key or an add of a present one would fail.
            foreach (var e in delta.Remove)
                Assert.True(kernel.Remove(KernelKey(e)), $"step {step}: delete of an element the set does not hold");
            foreach (var e in delta.Add)
                Assert.True(kernel.TryAdd(KernelKey(e), e), $"step {step}: add of an element the set already holds");
            // What a 6.10+ kernel does with an addition of a key it holds: the timeout moves, the userdata stays.
            Assert.True(refreshInPlace || delta.Refresh.Count == 0);
            foreach (var e in AllowSetModelTests.Sent(delta.Refresh))
            {
                Assert.True(kernel.TryGetValue(KernelKey(e), out var present), $"step {step}: timeout update of an element the set does not hold");
                Assert.Equal(e.Timeout, e.Expiration);
                kernel[KernelKey(e)] = present with { Timeout = e.Timeout };
                refreshed++;
            }
            var expected = model.Elements(Now);
            Assert.Equal(expected, kernel.Values.OrderBy(e => e.Key.Span.ToArray(), ByteOrder.Instance).ToList());
            var scratch = new AllowSetModel(AllowSetModelTests.V4, held.OrderBy(g => order.IndexOf(g.Entry)));
            Assert.Equal(scratch.Elements(Now), expected);
            Assert.Equal(expected, AllowSetModel.FromKernel(AllowSetModelTests.V4, expected, Now).Elements(Now));
        }
        return (refreshed, movedInPlace);
    }

    private static (DataValue, DataValue) KernelKey(SetElement e) => (e.Key, e.KeyEnd ?? e.Key);

    private static bool Overlap(AllowSetModelTests.Decoded a, AllowSetModelTests.Decoded b) =>
        a.Protocol == b.Protocol && N(a.First) <= N(b.Last) && N(b.First) <= N(a.Last) && a.FirstPort <= b.LastPort && b.FirstPort <= a.LastPort;

    private static bool Contains(AllowSetModelTests.Decoded a, IPAddress address, byte protocol, ushort port) =>
        a.Protocol == protocol && N(a.First) <= N(address) && N(address) <= N(a.Last) && a.FirstPort <= port && port <= a.LastPort;

    private static uint N(IPAddress address) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
