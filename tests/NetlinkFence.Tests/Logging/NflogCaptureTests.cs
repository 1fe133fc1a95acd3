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
/// Captures raw NFLOG packet messages from the kernel (one per datagram: queue threshold 1) and decodes them; the
/// hex it prints is what <see cref="NflogDecoderTests"/> keeps as its real captured messages.
/// </summary>
public sealed class NflogCaptureTests(ITestOutputHelper output)
{
    private const ushort Group = 100;

    /// <summary>The raw datagrams the kernel sends for what <paramref name="send"/> does, bound as NflogReader binds.</summary>
    internal static List<byte[]> Capture(AgentAndWorld net, int count, Action send)
    {
        using var socket = NetlinkSocket.Open(NetlinkProtocol.NETFILTER, net.Agent.Path);
        using (var config = new NetlinkConnection(new SocketTransport(socket), ownsTransport: false))
            config.RequestAsync(NflogConfig.Bind(Group, new NflogReaderOptions { QueueThreshold = 1 }), "bind", null, synchronous: true, CancellationToken.None)
                .AsTask().GetAwaiter().GetResult();
        send();
        var datagrams = new List<byte[]>();
        var buffer = new byte[64 << 10];
        while (datagrams.Count < count && socket.WaitReadable(30_000))
            if (socket.ReceiveDatagram(buffer, out int length) == NetlinkReceiveStatus.Datagram)
                datagrams.Add(buffer[..length]);
        return datagrams;
    }

    [Fact]
    public void Captured_udp_over_ipv4_and_tcp_over_ipv6_messages_decode()
    {
        using var net = new AgentAndWorld("198.51.100.1", "2001:db8:5::1");
        net.Agent.Nft("-f -", """
            table inet t {
              chain o {
                type filter hook output priority 0; policy accept;
                ip daddr 198.51.100.0/24 log prefix "EGRESS-DENIED: " group 100 drop
                ip6 daddr 2001:db8:5::/64 log prefix "EGRESS-DENIED: " group 100 drop
              }
            }
            """);
        var datagrams = Capture(net, 2, () =>
        {
            TestNamespace.TryRun("ip", $"netns exec {net.Agent.Name} setpriv --reuid 65534 --regid 65534 --clear-groups bash -c \"echo ntp > /dev/udp/198.51.100.7/123\"");
            TestNamespace.TryRun("ip", $"netns exec {net.Agent.Name} timeout 2 bash -c \"echo > /dev/tcp/2001:db8:5::7/443\"");
        });
        Assert.Equal(2, datagrams.Count);
        foreach (var d in datagrams)
            output.WriteLine(Convert.ToHexString(d));

        var udp = NflogDecoder.Decode(datagrams[0].AsSpan(16));
        Assert.Equal((AddressFamily.InterNetwork, 17, 123, 65534L, 0L, false), (udp.Family, udp.Protocol, udp.DestinationPort, udp.Uid, udp.Sequence, udp.Truncated));
        Assert.Equal(IPAddress.Parse("198.51.100.7"), new IPAddress(udp.Destination));
        Assert.Equal("EGRESS-DENIED: ", System.Text.Encoding.UTF8.GetString(udp.Prefix));
        Assert.Equal((int)NetfilterInetHook.LOCAL_OUT, udp.Hook);
        Assert.NotEqual(0u, udp.OutputIndex);

        var tcp = NflogDecoder.Decode(datagrams[1].AsSpan(16));
        Assert.Equal((AddressFamily.InterNetworkV6, 6, 443, 0L, 1L, false), (tcp.Family, tcp.Protocol, tcp.DestinationPort, tcp.Uid, tcp.Sequence, tcp.Truncated));
        Assert.Equal(IPAddress.Parse("2001:db8:5::7"), new IPAddress(tcp.Destination));
    }
}
