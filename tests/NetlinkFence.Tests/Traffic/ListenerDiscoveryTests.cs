using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using NetlinkFence.Interop;
using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Traffic;

/// <summary>
/// Multicast listener discovery under a policy with an IPv6 destination: the agent's kernel reports the groups it
/// joins (its solicited-node groups, through which neighbours' solicitations reach it behind a switch that snoops
/// MLD) and answers a router's query, and none of it is denied or logged as a denial.
/// </summary>
public sealed class ListenerDiscoveryTests
{
    private const string Policy = "version: 1\negress:\n  allow:\n    - name: web\n      to: [\"2001:db8::50\"]\n      tcp: [443]\n";

    private static async Task<NftablesConnection> Apply(AgentAndWorld net)
    {
        var compiled = PolicyCompiler.Compile(await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(Policy, "mld.yaml"), new FixedResolver()));
        var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, compiled);
        return nft;
    }

    /// <summary>
    /// Counts, in the world's prerouting (before the kernel drops a group it has not joined), MLDv2 reports from the
    /// agent's link-local address whose first record is <paramref name="recordType"/>: 2 (MODE_IS_EXCLUDE) answers a
    /// query, 4 (CHANGE_TO_EXCLUDE) reports a group just joined (RFC 3810 5.2.12).
    /// </summary>
    private static void Watch(AgentAndWorld net) =>
        net.World.Nft("-f /dev/stdin",
            "table inet watch { chain pre { type filter hook prerouting priority -300 ;\n"
            + "  icmpv6 type mld2-listener-report @th,64,8 4 counter comment \"joined\"\n"
            + "  icmpv6 type mld2-listener-report @th,64,8 2 counter comment \"answered\"\n }\n}\n");

    private static long Watched(AgentAndWorld net, string comment)
    {
        var match = Regex.Match(net.World.Nft("list chain inet watch pre"), $@"packets (\d+) bytes \d+ comment ""{comment}""");
        Assert.True(match.Success, "the world's watch chain has no counter " + comment);
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<ulong> Denied(NftablesConnection nft, string chain)
    {
        var live = await nft.ListTableAsync(NftFamily.Inet, "netlinkfence");
        // The deny chain's last rule counts everything it drops.
        return live!.RulesOf(chain).Last().Expressions.OfType<CounterExpression>().Single().Packets;
    }

    // Generous: CI is a loaded 2-core machine; MLD answers within its 1 s response delay, reports at once.
    private static bool Eventually(Func<bool> condition) => Poll.Until(condition, 20);

    /// <summary>
    /// An MLDv2 general query (RFC 3810 5.1): type 130, maximum response code 1000 ms, the unspecified group, no
    /// sources. The kernel fills in the checksum of a raw ICMPv6 socket.
    /// </summary>
    private static byte[] GeneralQuery()
    {
        var query = new byte[28];
        query[0] = 130;
        query[4] = 1000 >> 8;
        query[5] = 1000 & 0xff;
        query[24] = 2;   // robustness variable
        query[25] = 125; // query interval, seconds
        return query;
    }

    /// <summary>Sends <paramref name="query"/> from the world's link-local address to all nodes, as a router does: hop limit 1 and a router alert.</summary>
    private static void SendQuery(AgentAndWorld net, byte[] query)
    {
        int index = int.Parse(net.World.Exec("cat", $"/sys/class/net/{net.WorldInterface}/ifindex").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        using var socket = NetworkNamespace.Run(net.World.Path, () => new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.IcmpV6));
        // IPPROTO_IPV6 (41): IPV6_MULTICAST_HOPS (18) 1; IPV6_HOPOPTS (54): a router alert option (type 5, value 0: MLD).
        socket.SetRawSocketOption(41, 18, BitConverter.GetBytes(1));
        socket.SetRawSocketOption(41, 54, [0, 0, 5, 2, 0, 0, 1, 0]);
        var allNodes = IPAddress.Parse("ff02::1");
        allNodes.ScopeId = index;
        socket.SendTo(query, new IPEndPoint(allNodes, 0));
    }

    private static bool LinkLocalReady(TestNamespace side, string device)
    {
        string addresses = side.Exec("ip", $"-6 addr show dev {device} scope link");
        return addresses.Contains("fe80::", StringComparison.Ordinal) && !addresses.Contains("tentative", StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheKernelReportsTheGroupsItJoinsAndNothingIsDenied()
    {
        using var net = new AgentAndWorld("2001:db8::50");
        Watch(net);
        await using var nft = await Apply(net);
        long before = Watched(net, "joined");

        // A new address joins its solicited-node group (ff02::1:ff00:77): the kernel reports it at once.
        net.Agent.Exec("ip", $"-6 addr add 2001:db8::77/64 dev {net.AgentInterface} nodad");
        Assert.True(Eventually(() => Watched(net, "joined") > before), "the agent's report of its new solicited-node group never reached the link");
        Assert.Equal(0ul, await Denied(nft, "egress_denied"));
    }

    [Fact]
    public async Task ARoutersQueryIsAnsweredAndNothingIsDenied()
    {
        using var net = new AgentAndWorld("2001:db8::50");
        Watch(net);
        await using var nft = await Apply(net);

        // A router queries from its link-local address: wait out the world's duplicate address detection of it (and the
        // agent's, which answers from its own).
        Assert.True(Eventually(() => LinkLocalReady(net.World, net.WorldInterface) && LinkLocalReady(net.Agent, net.AgentInterface)),
            "no usable link-local address: " + net.World.Exec("ip", "-6 addr show"));
        SendQuery(net, GeneralQuery());
        Assert.True(Eventually(() => Watched(net, "answered") > 0), "the agent never answered the router's query");
        Assert.Equal(0ul, await Denied(nft, "ingress_denied"));
        Assert.Equal(0ul, await Denied(nft, "egress_denied"));
    }
}
