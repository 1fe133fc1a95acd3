using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using NetlinkFence.Interop;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Traffic;

/// <summary>
/// IPv6 packets with a type 0 routing header (RFC 5095 deprecated them) are dropped by a policy with IPv6 peers, in
/// both directions, even on a flow an entry allows; the same datagram without the header passes. The packets are
/// written whole on raw sockets (IPPROTO_RAW), the one way to send such a header: the socket API refuses it.
/// </summary>
public sealed class RoutingHeaderTests
{
    private const string Policy = "version: 1\negress:\n  allow:\n    - { name: time, to: [\"2001:db8::50\"], udp: [9999] }\n"
        + "input:\n  allow:\n    - { name: agent-port, udp: [9998] }\n";

    /// <summary>IPv6, then (with <paramref name="routingHeader"/>) an empty type 0 routing header with no segments left, then UDP.</summary>
    private static byte[] Datagram(string source, string destination, ushort port, bool routingHeader)
    {
        int extension = routingHeader ? 8 : 0;
        var packet = new byte[40 + extension + 8 + 4];
        packet[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)(packet.Length - 40));
        packet[6] = routingHeader ? (byte)43 : (byte)17;
        packet[7] = 64;
        IPAddress.Parse(source).GetAddressBytes().CopyTo(packet, 8);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(packet, 24);
        if (routingHeader)
            packet[40] = 17; // next header UDP; length 0, type 0, segments left 0
        var udp = packet.AsSpan(40 + extension);
        BinaryPrimitives.WriteUInt16BigEndian(udp, 40000);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], port);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], 12);
        "ping"u8.CopyTo(udp[8..]);
        return packet; // a zero UDP checksum: the counters below read the packets before anyone checks it
    }

    /// <summary>Sends a whole packet from <paramref name="side"/>; null, or the socket error.</summary>
    private static SocketError? SendRaw(TestNamespace side, byte[] packet, string destination)
    {
        using var socket = NetworkNamespace.Run(side.Path, () => new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, (ProtocolType)255));
        try
        {
            socket.SendTo(packet, new IPEndPoint(IPAddress.Parse(destination), 0));
            return null;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
    }

    /// <summary>
    /// Counters in <paramref name="side"/>'s own table: the world's in prerouting (what arrived), the agent's in input
    /// after the policy's chain (what the policy let in).
    /// </summary>
    private static void Watch(TestNamespace side, string hook, int priority, ushort port) =>
        side.Nft("-f /dev/stdin", $"table inet watch {{\n chain c {{\n type filter hook {hook} priority {priority};\n"
            + $" rt type 0 udp dport {port} counter comment \"rh0\"\n ip6 nexthdr udp udp dport {port} counter comment \"plain\"\n }}\n}}\n");

    private static long Watched(TestNamespace side, string comment)
    {
        var match = Regex.Match(side.Nft("list table inet watch"), $@"packets (\d+) bytes \d+ comment ""{comment}""");
        Assert.True(match.Success, "no watch counter " + comment);
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static bool Eventually(Func<bool> condition) => Poll.Until(condition, 10);

    private static void Apply(AgentAndWorld net)
    {
        string policy = TestScratch.PathFor("nlf-rh0", ".yaml");
        File.WriteAllText(policy, Policy);
        var apply = CliRunner.Run($"apply {policy} --netns {net.Agent.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr);
    }

    [Fact]
    public void An_allowed_flow_with_a_type_0_routing_header_is_dropped_on_output()
    {
        using var net = new AgentAndWorld("2001:db8::50");
        Watch(net.World, "prerouting", -300, 9999);
        // Without the policy the crafted packet is well formed and arrives.
        Assert.Null(SendRaw(net.Agent, Datagram(AgentAndWorld.AgentV6, "2001:db8::50", 9999, routingHeader: true), "2001:db8::50"));
        Assert.True(Eventually(() => Watched(net.World, "rh0") == 1), "the unfiltered packet with a routing header never arrived");

        Apply(net);
        Assert.Null(SendRaw(net.Agent, Datagram(AgentAndWorld.AgentV6, "2001:db8::50", 9999, routingHeader: false), "2001:db8::50"));
        Assert.True(Eventually(() => Watched(net.World, "plain") == 1), "the allowed datagram without a routing header never arrived");
        Assert.Equal(SocketError.AccessDenied, SendRaw(net.Agent, Datagram(AgentAndWorld.AgentV6, "2001:db8::50", 9999, routingHeader: true), "2001:db8::50"));
        Thread.Sleep(500);
        Assert.Equal(1, Watched(net.World, "rh0"));
    }

    [Fact]
    public void An_allowed_flow_with_a_type_0_routing_header_is_dropped_on_input()
    {
        using var net = new AgentAndWorld("2001:db8::50");
        Apply(net);
        // After the policy's input chain (priority filter, 0): what it let through.
        Watch(net.Agent, "input", 10, 9998);
        Assert.Null(SendRaw(net.World, Datagram("2001:db8::50", AgentAndWorld.AgentV6, 9998, routingHeader: false), AgentAndWorld.AgentV6));
        Assert.True(Eventually(() => Watched(net.Agent, "plain") == 1), "the allowed datagram without a routing header was not let in");
        Assert.Null(SendRaw(net.World, Datagram("2001:db8::50", AgentAndWorld.AgentV6, 9998, routingHeader: true), AgentAndWorld.AgentV6));
        // The plain datagram sent after it arriving shows the one before it had time to.
        Assert.Null(SendRaw(net.World, Datagram("2001:db8::50", AgentAndWorld.AgentV6, 9998, routingHeader: false), AgentAndWorld.AgentV6));
        Assert.True(Eventually(() => Watched(net.Agent, "plain") == 2), "the second allowed datagram was not let in");
        Assert.Equal(0, Watched(net.Agent, "rh0"));
    }
}
