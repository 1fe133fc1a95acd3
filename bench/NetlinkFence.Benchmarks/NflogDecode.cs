using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Logging;
using NetlinkFence.Netlink;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// `nflog [RECORDS]`: how fast the NFLOG reader decodes denials on one core. A flood of UDP datagrams is generated in a
/// fresh namespace whose output chain logs them to NFLOG group 100 and drops them; the datagrams the kernel sends
/// (batched as NflogReader configures it: queue threshold 64, 16 KiB buffers, 128 bytes copied) are captured whole, then
/// decoded again and again on this thread: the allocation-free decode (NflogDatagramReader) and, for comparison, the
/// full DenialRecord materialization (addresses and strings allocated).
/// </summary>
internal static class NflogDecode
{
    public static int Run(int records)
    {
        using var ns = BenchNamespace.Create();
        BenchNamespace.Run("ip", "-n", ns.Name, "link", "add", "b0", "type", "veth", "peer", "name", "b1");
        BenchNamespace.Run("ip", "-n", ns.Name, "link", "set", "b0", "up");
        BenchNamespace.Run("ip", "-n", ns.Name, "addr", "add", "10.7.0.1/24", "dev", "b0");
        BenchNamespace.Run("ip", "-n", ns.Name, "route", "add", "default", "dev", "b0");
        string rules = Path.GetTempFileName();
        File.WriteAllText(rules, "table inet b { chain o { type filter hook output priority 0; policy accept; ip daddr 198.51.100.0/24 log prefix \"EGRESS-DENIED: \" group 100 drop; }; }\n");
        ns.Nft("-f", rules);
        File.Delete(rules);

        var datagrams = Capture("/run/netns/" + ns.Name, records);
        int captured = datagrams.Sum(Count);
        Console.WriteLine($"captured {captured} NFLOG records in {datagrams.Count} datagrams ({datagrams.Sum(d => d.Length) / captured} bytes a record)");

        Measure("decode (NflogDatagramReader, allocation-free)", datagrams, captured, Count);
        var factory = new DenialRecordFactory(new InterfaceNames(null), new UserNames());
        Measure("decode + DenialRecord", datagrams, captured, d =>
        {
            int n = 0;
            var reader = new NflogDatagramReader(d);
            while (reader.TryRead(out var packet))
                n += factory.Create(packet, DateTimeOffset.UnixEpoch).DestinationPort is null ? 0 : 1;
            return n;
        });
        return 0;
    }

    private static int Count(byte[] datagram)
    {
        int n = 0;
        var reader = new NflogDatagramReader(datagram);
        while (reader.TryRead(out var packet))
            n += packet.DestinationPort >= 0 ? 1 : 0;
        return n;
    }

    private static void Measure(string what, List<byte[]> datagrams, int records, Func<byte[], int> decode)
    {
        for (int warm = 0; warm < 3; warm++)
            datagrams.ForEach(d => decode(d));
        const int rounds = 10;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        long decoded = 0;
        for (int round = 0; round < rounds; round++)
            foreach (var d in datagrams)
                decoded += decode(d);
        double seconds = clock.Elapsed.TotalSeconds;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        if (decoded != (long)records * rounds)
            throw new InvalidOperationException($"decoded {decoded} of {records * rounds} records");
        Console.WriteLine($"{what}: {decoded / seconds:#,0} records/s on one thread ({seconds * 1e9 / decoded:0} ns a record), {(double)allocated / decoded:0.0} bytes allocated a record");
    }

    /// <summary>Floods in chunks and drains the socket after each, so the capture loses nothing.</summary>
    private static List<byte[]> Capture(string nsPath, int records)
    {
        using var socket = NetlinkSocket.Open(NetlinkProtocol.NETFILTER, nsPath);
        socket.EnsureReceiveBuffer(32 << 20);
        using (var config = new NetlinkConnection(new SocketTransport(socket), ownsTransport: false))
            config.RequestAsync(NflogConfig.Bind(100, new NflogReaderOptions()), "bind", null, synchronous: true, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        using var sender = NetworkNamespace.Run(nsPath, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        sender.Connect(IPAddress.Parse("198.51.100.7"), 123);
        var payload = new byte[8];
        var datagrams = new List<byte[]>();
        var buffer = new byte[160 << 10];
        int got = 0;
        for (int sent = 0; sent < records; sent += 5_000)
        {
            for (int i = 0; i < 5_000; i++)
                sender.Send(payload, SocketFlags.None, out _);
            while (got < sent + 5_000 && socket.WaitReadable(2_000))
            {
                var status = socket.ReceiveDatagram(buffer, out int length);
                if (status == NetlinkReceiveStatus.Overrun)
                    throw new InvalidOperationException("the capture overflowed its socket");
                if (status == NetlinkReceiveStatus.Datagram)
                {
                    datagrams.Add(buffer[..length]);
                    got += Count(datagrams[^1]);
                }
            }
        }
        return datagrams;
    }
}
