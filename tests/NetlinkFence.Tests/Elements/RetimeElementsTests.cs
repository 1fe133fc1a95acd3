using System.Net;
using System.Net.Sockets;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Policy.Layout;
using NetlinkFence.Tests.Policy.Layout;

namespace NetlinkFence.Tests.Elements;

/// <summary>
/// <see cref="Transaction.RetimeElements"/>: the elements of a refresh sent with the timeouts kept beside them. The
/// bytes are those of the same elements carrying the timeout as their own timeout and time left, and a refresh round,
/// from the model's moved expiries to the encoded batch, allocates nothing per address.
/// </summary>
public sealed class RetimeElementsTests
{
    private static readonly NftSet V4 = AllowSetModelTests.V4;
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Retimed_elements_are_the_bytes_of_the_elements_carrying_the_new_timeout_and_time_left()
    {
        var model = new AllowSetModel(V4, Grants(3, Now.AddSeconds(30)));
        var elements = model.Elements(Now); // their own timeout is 30 s
        TimeSpan[] timeouts = [TimeSpan.FromMilliseconds(90_000), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(86_400_000)];

        var retimed = new Transaction().RetimeElements(V4, elements, timeouts, "refresh");
        var copies = new Transaction().AddElements(V4, elements.Select((e, i) => e with { Timeout = timeouts[i], Expiration = timeouts[i] }).ToList(), "refresh");

        Assert.Equal(Encode(copies), Encode(retimed));
        Assert.NotEqual(Encode(new Transaction().AddElements(V4, elements, "refresh")), Encode(retimed));
    }

    [Fact]
    public void Retiming_refuses_what_it_could_not_send_as_asked()
    {
        var elements = new AllowSetModel(V4, Grants(2, Now.AddSeconds(30))).Elements(Now);
        var tx = new Transaction();
        Assert.Throws<ArgumentException>(() => tx.RetimeElements(V4, elements, [TimeSpan.FromSeconds(1)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tx.RetimeElements(V4, elements, [TimeSpan.FromSeconds(1), TimeSpan.Zero]));
        var typed = SetElement.Of(IPAddress.Parse("192.0.2.1"), ProtocolType.Tcp, SetKeyField.Port(443));
        Assert.Throws<ArgumentException>(() => tx.RetimeElements(V4, [typed], [TimeSpan.FromSeconds(1)]));
        Assert.Throws<ArgumentException>(() => tx.RetimeElements(NftSet.Reference(NftFamily.Inet, "t", "allow_v4"), elements, [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)]));
        Assert.Equal(0, tx.Count);
    }

    [Fact]
    public void A_refresh_round_allocates_nothing_per_address()
    {
        long few = RoundAllocation(200), many = RoundAllocation(2_000);
        // What a round allocates whatever its size (the transaction, the change's empty lists) is the same for both.
        Assert.True(many <= few, $"a round of 2,000 addresses allocated {many} bytes, of 200 addresses {few} bytes: something allocates per address");
    }

    /// <summary>
    /// Bytes one thread allocates for a refresh round of <paramref name="addresses"/> addresses, after warm-up rounds: each
    /// address's expiry moved in place, the change taken, its elements put in a transaction and encoded.
    /// </summary>
    private static long RoundAllocation(int addresses)
    {
        var model = new AllowSetModel(V4, Grants(addresses, Now.AddSeconds(30)));
        model.Elements(Now);
        var targets = Enumerable.Range(0, addresses).Select(Address).ToArray();
        PortRange[] tcp = [new PortRange(443, 443)];
        using var batch = new BatchBuffer();
        int[] map = new int[64];
        long allocated = 0;
        for (int round = 1; round <= 5; round++)
        {
            var expires = Now.AddSeconds(30 + 30 * round);
            long before = GC.GetAllocatedBytesForCurrentThread();
            foreach (var address in targets)
                Assert.True(model.TryMoveExpiry("cdn", address, tcp, [], expires, Now));
            var refresh = model.Change([], [], Now, refreshInPlace: true).Refresh;
            var tx = new Transaction().RetimeElements(V4, refresh.Elements, refresh.Timeouts, "refresh");
            TransactionEncoder.Encode(tx, batch, 1, null, ref map);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before; // the last round's, after four to warm up
            Assert.Equal(addresses, refresh.Count);
        }
        return allocated;
    }

    private static IPAddress Address(int i) => new(new byte[] { 10, (byte)(i >> 16), (byte)(i >> 8), (byte)i });

    private static List<AllowGrant> Grants(int addresses, DateTimeOffset expires) =>
        Enumerable.Range(0, addresses)
            .Select(i => new AllowGrant("cdn", new IPNetwork(Address(i), 32), ProtocolType.Tcp, new PortRange(443, 443), expires))
            .ToList();

    private static byte[] Encode(Transaction tx)
    {
        using var batch = new BatchBuffer();
        int[] map = [];
        TransactionEncoder.Encode(tx, batch, 1, null, ref map);
        var bytes = new MemoryStream();
        foreach (var segment in batch.Segments())
            bytes.Write(segment.Span);
        return bytes.ToArray();
    }
}
