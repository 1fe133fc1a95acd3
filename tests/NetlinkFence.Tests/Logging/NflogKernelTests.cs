using System.Net;
using System.Net.Sockets;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Logging;
using NetlinkFence.Netlink;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Logging;

/// <summary>
/// The NFLOG reader against the real kernel: an agent/world pair whose agent logs (NFLOG group 100) and drops
/// everything to 198.51.100.0/24 and 2001:db8:5::/64, as the compiled policy's egress_denied does.
/// </summary>
public sealed class NflogKernelTests(ITestOutputHelper output)
{
    internal const ushort Group = 100;
    private const string Prefix = "EGRESS-DENIED: ";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30); // a loaded CI machine; records arrive in ms

    internal static AgentAndWorld DenyingAgent()
    {
        var net = new AgentAndWorld("198.51.100.1", "2001:db8:5::1");
        net.Agent.Nft("-f -", $$"""
            table inet t {
              chain o {
                type filter hook output priority 0; policy accept;
                ip daddr 198.51.100.0/24 log prefix "{{Prefix}}" group {{Group}} drop
                ip6 daddr 2001:db8:5::/64 log prefix "{{Prefix}}" group {{Group}} drop
              }
            }
            """);
        return net;
    }

    private static async Task<List<DenialRecord>> TakeAsync(NflogReader reader, int count)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var records = new List<DenialRecord>();
        try
        {
            await foreach (var record in reader.ReadAsync(timeout.Token))
            {
                records.Add(record);
                if (records.Count == count)
                    break;
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Assert.Fail($"{records.Count} of {count} denials arrived within {Patience.TotalSeconds} s: {string.Join("; ", records)}");
        }
        return records;
    }

    [Fact]
    public async Task Udp_tcp_over_ipv6_and_icmp_denials_are_read_with_addresses_ports_uid_interface_prefix_and_chain()
    {
        using var net = DenyingAgent();
        await using var reader = await NflogReader.OpenAsync(Group, net.Agent.Name);
        // A process that is not root (nobody), as chrony would be: its uid is the socket's file credentials.
        TestNamespace.TryRun("ip", $"netns exec {net.Agent.Name} setpriv --reuid 65534 --regid 65534 --clear-groups bash -c \"echo ntp > /dev/udp/198.51.100.7/123\"");
        DenialTraffic.IcmpEcho(net.Agent.Path, "198.51.100.8");
        TestNamespace.TryRun("ip", $"netns exec {net.Agent.Name} timeout 2 bash -c \"echo > /dev/tcp/2001:db8:5::7/443\"");

        var records = await TakeAsync(reader, 3);

        var udp = records[0];
        Assert.Equal((AddressFamily.InterNetwork, ProtocolType.Udp), (udp.Family, udp.Protocol));
        Assert.Equal((IPAddress.Parse(AgentAndWorld.AgentV4), IPAddress.Parse("198.51.100.7"), (ushort?)123), (udp.Source, udp.Destination, udp.DestinationPort));
        Assert.Equal(((uint?)65534, (uint?)65534), (udp.Uid, udp.Gid));
        Assert.Equal(File.ReadLines("/etc/passwd").Where(l => l.Split(':')[2] == "65534").Select(l => l.Split(':')[0]).FirstOrDefault(), udp.UserName);
        Assert.Equal((Prefix, "egress_denied", "drop"), (udp.Prefix, udp.Chain, udp.Verdict));
        Assert.StartsWith("v", udp.OutputInterface); // the agent's veth, by name (rtnetlink in the agent's namespace)
        Assert.Null(udp.InputInterface);
        Assert.Equal((uint?)0, udp.Sequence);
        Assert.Equal(20 + 8 + 4, udp.PacketLength); // "ntp\n"
        Assert.False(udp.Truncated);

        var icmp = records[1];
        Assert.Equal((ProtocolType.Icmp, (byte?)8, (byte?)0, (ushort?)null), (icmp.Protocol, icmp.IcmpType, icmp.IcmpCode, icmp.DestinationPort));
        Assert.Equal(((uint?)0, (uint?)1), (icmp.Uid, icmp.Sequence));

        var tcp = records[2];
        Assert.Equal((AddressFamily.InterNetworkV6, ProtocolType.Tcp), (tcp.Family, tcp.Protocol));
        Assert.Equal((IPAddress.Parse(AgentAndWorld.AgentV6), IPAddress.Parse("2001:db8:5::7"), (ushort?)443), (tcp.Source, tcp.Destination, tcp.DestinationPort));
        Assert.False(tcp.Truncated);
        Assert.True(DateTimeOffset.UtcNow - tcp.Time < TimeSpan.FromMinutes(5));
        Assert.Equal((0, 0L, 0L), (0, reader.LostInKernel, reader.DroppedSlowConsumer));
    }

    [Fact]
    public async Task A_second_reader_of_the_same_group_is_refused_with_EPERM_and_the_first_keeps_reading()
    {
        using var net = DenyingAgent();
        await using var first = await NflogReader.OpenAsync(Group, net.Agent.Name);
        var refused = await Assert.ThrowsAsync<NetlinkKernelException>(() => NflogReader.OpenAsync(Group, net.Agent.Name));
        Assert.Equal((int)Errno.PERM, refused.Errno); // nfulnl_recv_config: the instance belongs to another port
        Assert.Contains("another socket", refused.Message);
        DenialTraffic.Udp(net.Agent.Path, "198.51.100.7", 123, 1);
        Assert.Single(await TakeAsync(first, 1));
    }

    [Fact]
    public async Task A_full_socket_queue_loses_denials_that_are_counted_and_the_stream_goes_on()
    {
        using var net = DenyingAgent();
        // A consumer that does not read, with backpressure: the channel fills, then the pipe to its pause threshold,
        // then the socket's receive queue (the system default: 4 KiB asks for no more), and the kernel drops (ENOBUFS).
        await using var reader = await NflogReader.OpenAsync(Group, net.Agent.Name,
            new NflogReaderOptions { SocketReceiveBuffer = 4096, BufferCapacity = 100, DropWhenFull = false });
        const int flood = 50_000;
        DenialTraffic.Udp(net.Agent.Path, "198.51.100.7", 123, flood);
        // After the flood, while the consumer catches up, a marker every 100 ms until one arrives: the stream goes on.
        using var timeout = new CancellationTokenSource(Patience);
        var markers = Task.Run(async () =>
        {
            while (!timeout.IsCancellationRequested)
            {
                DenialTraffic.Udp(net.Agent.Path, "198.51.100.7", 124, 1);
                await Task.Delay(100);
            }
        });
        long read = 0;
        uint last = 0;
        try
        {
            await foreach (var record in reader.ReadAsync(timeout.Token))
            {
                read++;
                last = record.Sequence!.Value;
                if (record.DestinationPort == 124)
                    break;
            }
        }
        finally
        {
            timeout.Cancel();
            await markers;
        }
        output.WriteLine($"read {read} (last sequence {last}), received {reader.Received}, lost in kernel {reader.LostInKernel} ({reader.Overruns} ENOBUFS), dropped for the consumer {reader.DroppedSlowConsumer}");
        Assert.True(reader.LostInKernel > 0);
        Assert.True(reader.Overruns > 0);
        Assert.Equal(0, reader.DroppedSlowConsumer);
        // Every denial up to the last one read is accounted for: read, or counted lost from the sequence numbers.
        Assert.Equal(last + 1L, read + reader.LostInKernel);
        Assert.True(last >= flood);
    }

    [Fact]
    public async Task A_slow_consumer_loses_records_that_are_counted_and_the_socket_is_still_read()
    {
        using var net = DenyingAgent();
        await using var reader = await NflogReader.OpenAsync(Group, net.Agent.Name, new NflogReaderOptions { BufferCapacity = 100 });
        const int burst = 5_000;
        DenialTraffic.Udp(net.Agent.Path, "198.51.100.7", 123, burst);
        using var timeout = new CancellationTokenSource(Patience);
        while (reader.Received + reader.LostInKernel < burst) // the pump reads on while nobody consumes
            await Task.Delay(50, timeout.Token);
        long read = 0;
        using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await foreach (var record in reader.ReadAsync(quiet.Token))
                read++;
        }
        catch (OperationCanceledException) when (quiet.IsCancellationRequested)
        {
        }
        output.WriteLine($"read {read}, received {reader.Received}, lost in kernel {reader.LostInKernel}, dropped for the consumer {reader.DroppedSlowConsumer}");
        Assert.Equal(100, read);
        Assert.Equal(reader.Received - 100, reader.DroppedSlowConsumer);
    }
}
