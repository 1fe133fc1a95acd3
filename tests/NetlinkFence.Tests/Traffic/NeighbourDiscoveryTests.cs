using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using NetlinkFence.Interop;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Traffic;

/// <summary>
/// Neighbour discovery under a policy with an IPv6 destination: the kernel's own NDP still works both ways, but a
/// process with a raw ICMPv6 socket (CAP_NET_RAW, Docker's default) cannot send ND packets with a payload of its
/// choosing to a global address, where a router would carry them on.
/// </summary>
public sealed partial class NeighbourDiscoveryTests
{
    private const string Policy = "version: 1\negress:\n  allow:\n    - name: web\n      to: [\"2001:db8::50\"]\n      tcp: [443]\n";
    private const string Outside = "2001:db8:ffff::9"; // another /64: in a real network, beyond the router

    private static async Task Apply(AgentAndWorld net)
    {
        var compiled = PolicyCompiler.Compile(await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(Policy, "nd.yaml"), new FixedResolver()));
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, compiled);
    }

    /// <summary>A neighbour solicitation with 16 bytes of chosen payload after the target: ICMPv6 length 40.</summary>
    private static byte[] SolicitationWithPayload(byte type = 135)
    {
        var packet = new byte[40];
        packet[0] = type;
        IPAddress.Parse("2001:db8:dead::1").GetAddressBytes().CopyTo(packet, 8);
        "EXFILTRATED-DATA"u8.CopyTo(packet.AsSpan(24));
        return packet;
    }

    /// <summary>Sends from a raw ICMPv6 socket in the agent, hop limit 255 as NDP requires; null, or the socket error.</summary>
    private static SocketError? SendRaw(AgentAndWorld net, string destination, byte[] packet)
    {
        using var socket = NetworkNamespace.Run(net.Agent.Path, () => new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.IcmpV6));
        // IPPROTO_IPV6 (41): IPV6_UNICAST_HOPS (16) and IPV6_MULTICAST_HOPS (18).
        socket.SetRawSocketOption(41, 16, BitConverter.GetBytes(255));
        socket.SetRawSocketOption(41, 18, BitConverter.GetBytes(255));
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

    /// <summary>The world's count of ND packets of ICMPv6 length 40 (ours; the kernel's NS is 32) arriving for <see cref="Outside"/>.</summary>
    private static int Arrived(AgentAndWorld net) =>
        int.Parse(PacketsPattern().Match(net.World.Nft("list chain inet watch pre")).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex(@"packets (\d+)")]
    private static partial Regex PacketsPattern();

    private static void Watch(AgentAndWorld net) =>
        net.World.Nft("-f /dev/stdin", $"table inet watch {{ chain pre {{ type filter hook prerouting priority -300 ; ip6 daddr {Outside} ip6 length 40 icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert }} counter\n }}\n}}\n");

    // Generous: CI is a loaded 2-core machine; the condition normally holds within milliseconds.
    private static bool Eventually(Func<bool> condition) => Poll.Until(condition, 20);

    [Fact]
    public async Task ARawNeighbourSolicitationOrAdvertisementToAGlobalAddressIsDropped()
    {
        using var net = new AgentAndWorld("2001:db8::50", Outside);
        Watch(net);
        // Without the policy the packet reaches the world: the probe can see it.
        Assert.Null(SendRaw(net, Outside, SolicitationWithPayload()));
        Assert.True(Eventually(() => Arrived(net) == 1), "the unfiltered raw solicitation never arrived");

        await Apply(net);
        Assert.Equal(SocketError.AccessDenied, SendRaw(net, Outside, SolicitationWithPayload()));
        Assert.Equal(SocketError.AccessDenied, SendRaw(net, Outside, SolicitationWithPayload(type: 136)));
        Assert.Equal(SocketError.AccessDenied, SendRaw(net, "2001:db8::50", SolicitationWithPayload()));
        // Link scope is what the protocol uses: allowed from anyone, and no router forwards it.
        Assert.Null(SendRaw(net, "ff02::1:ff00:50", SolicitationWithPayload()));
        Assert.Equal(1, Arrived(net));
    }

    [Fact]
    public async Task TheKernelsOwnNeighbourDiscoveryStillWorksBothWays()
    {
        using var net = new AgentAndWorld("2001:db8::50");
        net.ListenTcp("2001:db8::50", 443);
        await Apply(net);
        net.Agent.Exec("ip", "-6 neigh flush all");
        net.World.Exec("ip", "-6 neigh flush all");
        // The agent resolves the world (NS to a solicited-node group, NA back).
        Assert.True(net.TcpReachable("2001:db8::50", 443, 10_000), "the allowed IPv6 destination is unreachable");

        // The world resolves the agent from its global address: the agent's NA goes to that global address,
        // sent by the kernel itself.
        net.World.Exec("ip", "-6 neigh flush all");
        using (var udp = NetworkNamespace.Run(net.World.Path, () => new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp)))
        {
            udp.Bind(new IPEndPoint(IPAddress.Parse("2001:db8::50"), 0));
            udp.SendTo("x"u8.ToArray(), new IPEndPoint(IPAddress.Parse(AgentAndWorld.AgentV6), 9));
        }
        Assert.True(Eventually(() => net.World.Exec("ip", $"-6 neigh show {AgentAndWorld.AgentV6}").Contains("lladdr", StringComparison.Ordinal)),
            "the world could not resolve the agent: " + net.World.Exec("ip", "-6 neigh show"));
    }
    /// <summary>
    /// An IPv6 destination that only a window entry names: the housekeeping comes with the policy, so the opened window
    /// reaches it (before, windows did not count as IPv6 peers, and the neighbour solicitation for it was dropped).
    /// </summary>
    [Fact]
    public async Task AWindowEntrysIPv6DestinationIsReachableOnceOpened()
    {
        const string windowed = "version: 1\negress:\n  allow:\n    - name: control\n      to: [203.0.113.50]\n      tcp: [443]\n"
            + "    - name: updates\n      to: [\"2001:db8::50\"]\n      tcp: [443]\n      window: 1m\n";
        using var net = new AgentAndWorld("2001:db8::50");
        net.ListenTcp("2001:db8::50", 443);
        var resolved = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(windowed, "window.yaml"), new FixedResolver());
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, PolicyCompiler.Compile(resolved));
        net.Agent.Exec("ip", "-6 neigh flush all");
        Assert.False(net.TcpReachable("2001:db8::50", 443, 700), "the window entry must be closed after apply");

        var live = await LivePolicy.AttachAsync(nft, resolved);
        await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(50));
        Assert.True(net.TcpReachable("2001:db8::50", 443, 10_000), "the opened window's IPv6 destination is unreachable");
    }
}
