using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using NetlinkFence.Interop;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Faults;

/// <summary>
/// Issue 5, "No leak window": re-applying replaces the whole table (add, delete, re-create) in one transaction,
/// so a denied destination stays denied during every re-apply. A probe in the agent keeps trying one (TCP and
/// UDP) while the policy is re-applied 500 times; nothing may arrive in the world.
/// </summary>
public sealed class NoLeakWindowTests(ITestOutputHelper output)
{
    private const string Denied = "198.51.100.7", Allowed = "203.0.113.50";
    private const int DeniedPort = 443, Reapplies = 500;

    private const string Policy = """
        version: 1
        log:
          prefix: "EGRESS-DENIED: "
        egress:
          allow:
            - name: allowed
              to: [203.0.113.50]
              tcp: [443]
        """;

    [Fact]
    public async Task FiveHundredReappliesLetNothingThrough()
    {
        using var net = new AgentAndWorld(Denied, Allowed);
        // The world counts, independently of the listener, every packet that reaches it for the denied flow.
        net.World.Nft("add table inet witness");
        net.World.Nft("add chain inet witness in { type filter hook input priority -300 ; policy accept ; }");
        net.World.Nft($"add rule inet witness in ip daddr {Denied} tcp dport {DeniedPort} tcp flags & (syn | ack) == syn counter");
        net.World.Nft($"add rule inet witness in ip daddr {Denied} udp dport {DeniedPort} counter");

        int accepted = 0, datagrams = 0;
        using var stop = new CancellationTokenSource();
        var (tcpListener, udpSocket) = NetworkNamespace.Run(net.World.Path, () =>
        {
            var t = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            t.Bind(new IPEndPoint(IPAddress.Parse(Denied), DeniedPort));
            t.Listen(64);
            var u = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            u.Bind(new IPEndPoint(IPAddress.Parse(Denied), DeniedPort));
            return (t, u);
        });
        using var _t = tcpListener;
        using var _u = udpSocket;
        var acceptLoop = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var c = await tcpListener.AcceptAsync(stop.Token);
                    Interlocked.Increment(ref accepted);
                    await c.SendAsync("hello"u8.ToArray(), SocketFlags.None);
                    c.Shutdown(SocketShutdown.Both);
                }
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
            }
        });
        var receiveLoop = Task.Run(async () =>
        {
            var buffer = new byte[64];
            try
            {
                while (true)
                {
                    await udpSocket.ReceiveAsync(buffer, stop.Token);
                    Interlocked.Increment(ref datagrams);
                }
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
            }
        });

        // The listeners work: before any policy the flow gets through.
        Assert.True(net.TcpReachable(Denied, DeniedPort, AgentAndWorld.ExpectedThroughMs));
        await Task.Delay(300);
        Assert.Equal(1, accepted);
        accepted = 0;

        var compiled = FaultPolicies.Compile(Policy);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, compiled);
        // Baseline of the witness (it counted the check above; `nft reset counters` resets counter objects, not these).
        long[] witnessBefore = WitnessCounts(net.World.Nft("list table inet witness"));
        Assert.True(witnessBefore[0] >= 1, "the witness did not count the check's SYN");

        // The probe: bounded, a fresh TCP connect (SYN) and a datagram every ~2 ms until the re-applies end.
        int attempts = 0;
        var probe = Task.Run(() => NetworkNamespace.Run(net.Agent.Path, () =>
        {
            // The whole loop runs on the thread that entered the agent's namespace, so its sockets live there.
            for (int i = 0; i < 200_000 && !stop.IsCancellationRequested; i++)
            {
                using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                tcp.Blocking = false;
                try
                {
                    tcp.Connect(IPAddress.Parse(Denied), DeniedPort);
                }
                catch (SocketException)
                {
                    // EINPROGRESS, or EPERM when the local firewall drops the SYN.
                }
                try
                {
                    udp.SendTo("x"u8, new IPEndPoint(IPAddress.Parse(Denied), DeniedPort));
                }
                catch (SocketException)
                {
                }
                Interlocked.Increment(ref attempts);
                Thread.Sleep(2);
            }
            return 0;
        }));

        ulong droppedSeen = 0, allowedCounted = 0;
        for (int i = 0; i < Reapplies; i++)
        {
            // Counters restart with every re-created table: read them just before each re-apply.
            var live = await nft.ListTableAsync(NftFamily.Inet, "netlinkfence");
            droppedSeen += live!.RulesOf("egress_denied").Last().Expressions.OfType<CounterExpression>().Single().Packets; // the final counter drop
            allowedCounted += live.RulesOf("output").Where(r => r.Comment == "allowed").SelectMany(r => r.Expressions).OfType<CounterExpression>().Aggregate(0UL, (s, c) => s + c.Packets);
            var result = await PolicyApplier.ApplyAsync(nft, compiled);
            Assert.Empty(result.Changes);
        }
        stop.Cancel();
        await probe;
        await Task.Delay(200); // anything in flight arrives (or does not)
        await Task.WhenAll(acceptLoop, receiveLoop);

        string witness = net.World.Nft("list table inet witness");
        output.WriteLine($"{Reapplies} re-applies, {attempts} probe rounds (a SYN and a datagram each): {accepted} connections accepted, "
            + $"{datagrams} datagrams received; egress_denied counted at least {droppedSeen} packets; allow counter {allowedCounted}\n{witness}");
        Assert.True(attempts > 50, $"the probe ran only {attempts} rounds");
        Assert.Equal(0, accepted);
        Assert.Equal(0, datagrams);
        Assert.Equal(witnessBefore, WitnessCounts(witness));
        Assert.Equal(0UL, allowedCounted);
        Assert.True(droppedSeen > 0, "egress_denied counted nothing: the probe never ran against the policy");
    }

    [Fact]
    public async Task ForwardedTrafficNeverLeaksDuringReapplies()
    {
        // A guest behind the agent (a container on the agent host, say) whose packets the agent forwards.
        // During a commit the kernel unhooks the old table's base chains before it gives the new ones their
        // drop policy: a forward chain that relied on its policy alone would forward packets in between.
        using var net = new AgentAndWorld(Denied, Allowed);
        using var guest = TestNamespace.Create();
        string veth = "g" + guest.Name.GetHashCode().ToString("x8")[..6];
        TestNamespace.Run("ip", $"link add {veth}a netns {net.Agent.Name} type veth peer name {veth}g netns {guest.Name}");
        net.Agent.Exec("ip", $"link set {veth}a up");
        net.Agent.Exec("ip", $"addr add 10.99.0.1/24 dev {veth}a");
        net.Agent.Exec("sysctl", "-qw net.ipv4.ip_forward=1");
        guest.Exec("ip", $"link set {veth}g up");
        guest.Exec("ip", $"addr add 10.99.0.2/24 dev {veth}g");
        guest.Exec("ip", "route add default via 10.99.0.1");
        net.World.Nft("add table inet witness");
        net.World.Nft("add chain inet witness in { type filter hook prerouting priority -300 ; policy accept ; }");
        net.World.Nft("add rule inet witness in ip saddr 10.99.0.2 udp dport 443 counter");

        using var stop = new CancellationTokenSource();
        long sent = 0;
        void Flood(int limit) => NetworkNamespace.Run(guest.Path, () =>
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            var target = new IPEndPoint(IPAddress.Parse(Denied), DeniedPort);
            for (int i = 0; i < limit && !stop.IsCancellationRequested; i++)
            {
                udp.SendTo("x"u8, target);
                Interlocked.Increment(ref sent);
                if (i % 64 == 63)
                    Thread.Sleep(0); // let the applier run too on a 2-vCPU runner; the loop is bounded by limit
            }
            return 0;
        });
        // Forwarding works before any policy. The first datagrams wait for two neighbour resolutions (guest to
        // agent, agent to world), which a loaded runner can stretch past any fixed delay: poll, bounded.
        long[] before = [0, 0];
        for (var waited = Stopwatch.StartNew(); before[0] < 10 && waited.Elapsed < TimeSpan.FromSeconds(30);)
        {
            Flood(10);
            await Task.Delay(200);
            before = WitnessCounts(net.World.Nft("list table inet witness"));
        }
        Assert.True(before[0] >= 10, $"forwarding does not work before the policy: the world counted {before[0]} in 30 s");
        for (long[] settled = []; !settled.SequenceEqual(before);) // datagrams still queued for a neighbour land first
        {
            settled = before;
            await Task.Delay(300);
            before = WitnessCounts(net.World.Nft("list table inet witness"));
        }

        var compiled = FaultPolicies.Compile(Policy);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, compiled);
        sent = 0;
        var flood = Task.Run(() => Flood(50_000_000));
        // At least Reapplies re-applies, and on until the guest has tried enough datagrams: on a loaded machine the
        // flood thread may get little CPU while the commits run (bounded: 2 minutes at most).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int reapplies = 0;
        while (reapplies < Reapplies || (Interlocked.Read(ref sent) <= 10_000 && clock.Elapsed < TimeSpan.FromMinutes(2)))
        {
            await PolicyApplier.ApplyAsync(nft, compiled);
            reapplies++;
        }
        stop.Cancel();
        await flood;
        await Task.Delay(200);
        long[] after = WitnessCounts(net.World.Nft("list table inet witness"));
        output.WriteLine($"{reapplies} re-applies, {sent} forwarded datagrams tried, {after[0] - before[0]} reached the world");
        Assert.True(sent > 10_000, $"the guest sent only {sent} datagrams");
        Assert.Equal(before, after);
    }

    /// <summary>The packet counts of the witness's rules (TCP SYNs, UDP datagrams), in order.</summary>
    private static long[] WitnessCounts(string listing) =>
        [.. System.Text.RegularExpressions.Regex.Matches(listing, @"counter packets (\d+)").Select(m => long.Parse(m.Groups[1].Value))];
}
