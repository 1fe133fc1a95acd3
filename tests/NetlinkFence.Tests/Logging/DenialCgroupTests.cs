using System.Net.Sockets;
using NetlinkFence.Logging;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Logging;

/// <summary>
/// Each egress denial carries the cgroup of the socket that sent it (looked up over sock_diag as the record
/// arrives), on the real kernel: processes the test starts in cgroups it makes under the cgroup2 mount send denied
/// TCP and UDP from the agent of an agent/world pair (the agent logs to NFLOG group 100 and drops 198.51.100.0/24
/// and 2001:db8:5::/64). A socket is made after its process joined its cgroup, so it belongs there.
/// </summary>
public sealed class DenialCgroupTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30); // a loaded CI machine; records arrive in ms

    /// <summary>Reads records until <paramref name="done"/> says the ones the test waits for have come.</summary>
    private static async Task<List<DenialRecord>> ReadUntilAsync(NflogReader reader, Func<List<DenialRecord>, bool> done)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var records = new List<DenialRecord>();
        try
        {
            await foreach (var record in reader.ReadAsync(timeout.Token))
            {
                records.Add(record);
                if (done(records))
                    break;
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Assert.Fail($"the awaited denials did not all arrive within {Patience.TotalSeconds} s: {string.Join("; ", records)}");
        }
        return records;
    }

    private static string InAgent(AgentAndWorld net, string script) => $"ip netns exec {net.Agent.Name} bash -c \"{script}\"";

    /// <summary>A TCP connect that blocks while its denied SYN is retransmitted: the socket lives until the test kills it.</summary>
    private static string TcpConnect(string address, int port) => $"exec 3<>/dev/tcp/{address}/{port}";

    /// <summary>A UDP socket that sends one denied datagram and is kept open, as a daemon keeps its socket.</summary>
    private static string UdpKept(string address, int port) => $"exec 3>/dev/udp/{address}/{port}; echo x >&3; sleep 120";

    private static DenialRecord Of(List<DenialRecord> records, ProtocolType protocol, int port) =>
        records.First(r => r.Protocol == protocol && r.DestinationPort == port);

    [Fact]
    public async Task Tcp_and_udp_denials_from_two_cgroups_each_carry_the_cgroup_of_their_sending_socket()
    {
        using var net = NflogKernelTests.DenyingAgent();
        using var cgroups = TestCgroup.Create("a", "b");
        var (a, b) = (cgroups["a"], cgroups["b"]);
        await using var reader = await NflogReader.OpenAsync(NflogKernelTests.Group, net.Agent.Name);

        a.Start(InAgent(net, TcpConnect("198.51.100.7", 1001)));
        a.Start(InAgent(net, UdpKept("198.51.100.7", 2001)));
        b.Start(InAgent(net, TcpConnect("198.51.100.7", 1002)));
        b.Start(InAgent(net, UdpKept("198.51.100.7", 2002)));
        b.Start(InAgent(net, TcpConnect("2001:db8:5::7", 1003)));
        (ProtocolType, int)[] flows = [(ProtocolType.Tcp, 1001), (ProtocolType.Udp, 2001), (ProtocolType.Tcp, 1002), (ProtocolType.Udp, 2002), (ProtocolType.Tcp, 1003)];
        var records = await ReadUntilAsync(reader, rs => flows.All(f => rs.Any(r => (r.Protocol, r.DestinationPort) == f)));
        foreach (var r in records)
            output.WriteLine($"{r.Protocol} {r.Source}:{r.SourcePort} -> {r.Destination}:{r.DestinationPort} uid={r.Uid} cgroup={r.CgroupId} {r.Cgroup} unit={r.Unit}");

        foreach (var (cgroup, flow) in new[] { (a, flows[0]), (a, flows[1]), (b, flows[2]), (b, flows[3]), (b, flows[4]) })
        {
            var record = Of(records, flow.Item1, flow.Item2);
            Assert.True((cgroup.Id, cgroup.Path) == (record.CgroupId, record.Cgroup),
                $"{flow}: expected {cgroup.Path} (id {cgroup.Id}), the record says {record.Cgroup} (id {record.CgroupId})");
            Assert.Null(record.Unit); // a test directory is no unit
            Assert.Equal((uint?)0, record.Uid);
        }
        Assert.Equal(AddressFamily.InterNetworkV6, Of(records, ProtocolType.Tcp, 1003).Family);
        Assert.NotEqual(a.Id, b.Id);
    }

    [Fact]
    public async Task A_denial_whose_socket_closed_before_the_record_was_read_has_an_unknown_cgroup_never_a_guess()
    {
        using var net = NflogKernelTests.DenyingAgent();
        using var cgroups = TestCgroup.Create("a", "b");
        var (a, b) = (cgroups["a"], cgroups["b"]);
        // The kernel holds logged packets until two are queued (no timer within the test): the first denial's
        // socket is closed, and its process gone, before the reader sees either record.
        await using var reader = await NflogReader.OpenAsync(NflogKernelTests.Group, net.Agent.Name,
            new NflogReaderOptions { QueueThreshold = 2, FlushTimeout = TimeSpan.FromMinutes(10) });

        a.Run(InAgent(net, "echo x > /dev/udp/198.51.100.7/3001")); // sends, is denied, closes, exits
        b.Start(InAgent(net, UdpKept("198.51.100.7", 3002)));
        var records = await ReadUntilAsync(reader, rs => rs.Count == 2);

        var closed = Of(records, ProtocolType.Udp, 3001);
        Assert.Equal(((ulong?)null, (string?)null, (string?)null), (closed.CgroupId, closed.Cgroup, closed.Unit));
        Assert.Equal((uint?)0, closed.Uid); // the kernel still said who sent it
        var open = Of(records, ProtocolType.Udp, 3002);
        Assert.Equal((b.Id, b.Path), (open.CgroupId, open.Cgroup));
    }

    [Fact]
    public async Task An_icmp_denial_carries_no_cgroup()
    {
        using var net = NflogKernelTests.DenyingAgent();
        await using var reader = await NflogReader.OpenAsync(NflogKernelTests.Group, net.Agent.Name);
        DenialTraffic.IcmpEcho(net.Agent.Path, "198.51.100.8");
        var icmp = Assert.Single(await ReadUntilAsync(reader, rs => rs.Count == 1));
        Assert.Equal((ProtocolType.Icmp, (ulong?)null, (string?)null), (icmp.Protocol, icmp.CgroupId, icmp.Cgroup));
    }
}
