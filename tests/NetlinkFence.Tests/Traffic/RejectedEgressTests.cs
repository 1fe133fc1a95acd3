using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using NetlinkFence.Interop;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Traffic;

/// <summary>
/// <c>egress.deny: reject</c> with real packets: a connect the policy denies fails at once (ICMP administratively
/// prohibited) instead of waiting for its timeout, the denial is still logged and counted, and the self-test and
/// <c>probe</c> judge the rejection as this policy's. Without the key, the same connect hears nothing.
/// </summary>
public sealed class RejectedEgressTests : IDisposable
{
    private const string Denied4 = "198.51.100.7", Denied6 = "2001:db8::77";

    private readonly string _dir = Directory.CreateTempSubdirectory("nlf-reject-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string deny)
    {
        string path = Path.Combine(_dir, $"{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, $"""
            version: 1
            egress:
              {deny}
              allow:
                - name: control
                  to: [203.0.113.50, "2001:db8::50"]
                  tcp: [443]
            selftest:
              allow: ["tcp:203.0.113.50:443"]
              deny: ["tcp:{Denied4}:443"]
            """);
        return path;
    }

    [Fact]
    public void A_denied_connect_fails_at_once_over_both_families_and_is_still_counted_and_judged_denied()
    {
        using var net = new AgentAndWorld("203.0.113.50", "2001:db8::50", Denied4, Denied6);
        foreach (string address in new[] { "203.0.113.50", "2001:db8::50", Denied4, Denied6 })
            net.ListenTcp(address, 443);
        Assert.True(net.TcpReachable(Denied4, 443, AgentAndWorld.ExpectedThroughMs)); // the listener answers: a refusal below is the policy

        // The default: dropped, the sender hears nothing (the connect is cut by the test's own timeout).
        var dropped = CliRunner.Run($"apply {Write("")} --netns {net.Agent.Name}");
        Assert.True(dropped.ExitCode == 0, dropped.Stdout + dropped.Stderr);
        Assert.Equal("timed out", Connect(net, Denied4, TimeSpan.FromSeconds(2)));

        string policy = Write("deny: reject");
        var apply = CliRunner.Run($"apply {policy} --netns {net.Agent.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stdout + apply.Stderr);
        // The self-test's denied flow is this policy's rejection (the probe's errno and the chain's counter).
        Assert.Matches($@"selftest: tcp:{Denied4}:443 +expected DENIED +got DENIED +\(unreachable \(EHOSTUNREACH\): rejected by this policy, egress_denied probe count \+[1-9]\d*\) ok", apply.Stdout);

        // nft's own reading of what was committed: the chain ends in a counted reject, after the log.
        using (var chain = JsonDocument.Parse(net.Agent.Nft("-j list chain inet netlinkfence egress_denied")))
        {
            var last = chain.RootElement.GetProperty("nftables").EnumerateArray().Last(e => e.TryGetProperty("rule", out _)).GetProperty("rule").GetProperty("expr");
            Assert.Equal(JsonValueKind.Object, last[0].GetProperty("counter").ValueKind);
            Assert.Equal("icmpx", last[1].GetProperty("reject").GetProperty("type").GetString());
            Assert.Equal("admin-prohibited", last[1].GetProperty("reject").GetProperty("expr").GetString());
        }
        using (var chain = JsonDocument.Parse(net.Agent.Nft("-j list chain inet netlinkfence ingress_denied")))
            Assert.True(chain.RootElement.GetProperty("nftables").EnumerateArray().Last(e => e.TryGetProperty("rule", out _)).GetProperty("rule").GetProperty("expr")[1].TryGetProperty("drop", out _),
                "input stays a drop");

        ulong before = Rejected(net);
        // A timeout of a minute, which a drop would use up: the connect must fail on the policy's ICMP error instead.
        var clock = Stopwatch.StartNew();
        Assert.Equal("HostUnreachable", Connect(net, Denied4, TimeSpan.FromMinutes(1)));
        Assert.Equal("AccessDenied", Connect(net, Denied6, TimeSpan.FromMinutes(1))); // EACCES: ICMPv6 administratively prohibited
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(50), $"{clock.Elapsed}: the connects waited instead of failing");
        Assert.True(Rejected(net) >= before + 2, $"counted {Rejected(net) - before}");
        Assert.True(net.TcpReachable("203.0.113.50", 443, AgentAndWorld.ExpectedThroughMs));
        Assert.True(net.TcpReachable("2001:db8::50", 443, AgentAndWorld.ExpectedThroughMs));

        var verify = CliRunner.Run($"verify {policy} --netns {net.Agent.Name}");
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
        var probe = CliRunner.Run($"probe tcp:{Denied4}:443 --policy {policy} --netns {net.Agent.Name} --timeout-ms 5000");
        Assert.True(probe.ExitCode == 0, probe.Stderr);
        // +1 unless a loaded machine delays the ICMP error past the SYN's first retransmit (1 s).
        Assert.Matches($@"DENIED +\(unreachable \(EHOSTUNREACH\): rejected by this policy, egress_denied probe count \+[1-9]\d*\) -- policy: no entry allows {Regex.Escape(Denied4)}: logged and rejected by egress_denied", probe.Stdout);
    }

    /// <summary>How a TCP connect from the agent ended: connected, timed out (the test's timeout), or the socket error.</summary>
    private static string Connect(AgentAndWorld net, string address, TimeSpan timeout)
    {
        var ip = IPAddress.Parse(address);
        using var socket = NetworkNamespace.Run(net.Agent.Path, () => new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            socket.ConnectAsync(ip, 443, cancel.Token).AsTask().GetAwaiter().GetResult();
            return "connected";
        }
        catch (OperationCanceledException)
        {
            return "timed out";
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode.ToString();
        }
    }

    /// <summary>What egress_denied's final rule counted (nft's reading).</summary>
    private static ulong Rejected(AgentAndWorld net)
    {
        using var chain = JsonDocument.Parse(net.Agent.Nft("-j list chain inet netlinkfence egress_denied"));
        return chain.RootElement.GetProperty("nftables").EnumerateArray().Last(e => e.TryGetProperty("rule", out _))
            .GetProperty("rule").GetProperty("expr")[0].GetProperty("counter").GetProperty("packets").GetUInt64();
    }
}
