using System.Collections.Concurrent;
using NetlinkFence.Cli.Daemon;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.Logging;
using NetlinkFence.Tests.TestSupport;
using Xunit;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// The daemon's forwarding pipeline when its NFLOG reader ends (a socket failure, or the reader closed): it says so,
/// binds the group again, counts from the table's counters the denials the kernel logged while nobody read them, and
/// forwards the next ones. Before, the pipeline stopped for good with a line promising that a reload would restart it.
/// In-process, so the test can end the reader; Debian's rsyslogd (gtls) is the collector, in the world namespace.
/// </summary>
public sealed class DenialForwardingReaderTests : IDisposable
{
    private const string Collector = "198.51.100.20";
    private const string Denied = "198.51.100.7";
    private const int Port = 6514;

    private readonly string _directory = Directory.CreateTempSubdirectory("nlf-forward-reader-").FullName;
    private readonly AgentAndWorld _net = new(Collector);
    private readonly TestCertificates _ca;
    private readonly ConcurrentQueue<string> _log = new();

    public DenialForwardingReaderTests() => _ca = new TestCertificates(_directory, "test");

    [Fact]
    public async Task A_reader_that_ends_is_bound_again_and_the_denials_nobody_read_are_counted()
    {
        var (certificate, key) = _ca.Issue("collector", Collector, null, server: true);
        using var collector = new RsyslogCollector(_net.World, _directory, Collector, Port, _ca.CaFile, certificate, key);
        collector.Start();
        string path = Path.Combine(_directory, "policy.yaml");
        File.WriteAllText(path, $$"""
            version: 1
            log:
              rate: 100/second
              remote: { tls: "{{Collector}}:{{Port}}", ca: {{_ca.CaFile}} }
            egress:
              allow:
                - { name: syslog-tls, to: [{{Collector}}], tcp: [{{Port}}] }
            """);
        var policy = PolicyCompiler.Compile(await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(File.ReadAllText(path), path), new FixedResolver()));
        await using (var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = _net.Agent.Path }))
            await PolicyApplier.ApplyAsync(nft, policy);

        // A long first wait, so the test's datagrams surely land while no reader is bound, however loaded the machine.
        await using var forwarding = await DenialForwarding.StartAsync(policy, path, _net.Agent.Path, _log.Enqueue, CancellationToken.None, reopenFirst: TimeSpan.FromSeconds(8));
        Assert.NotNull(forwarding);
        Assert.True(DeniedUntilForwarded(collector, 123), $"no denial at the collector before the reader ended; log: {Log}; collector: {collector.Console}");

        var first = forwarding.Reader;
        await first.DisposeAsync(); // its stream ends, as when the socket fails
        Assert.True(WaitForLog("forward: reading denials stopped (the NFLOG socket closed); binding NFLOG group 100 again"), Log);
        DenialTraffic.Udp(_net.Agent.Path, Denied, 124, 5);
        Assert.True(WaitForLog("forward: reading denials of NFLOG group 100 again;"), Log);
        Assert.NotSame(first, forwarding.Reader);

        // The five datagrams (and perhaps some of the link's own IPv6 chatter, denied too) were logged to nobody.
        string again = _log.Last(l => l.Contains("again;"));
        var counted = System.Text.RegularExpressions.Regex.Match(again, @"again; (\d+) denial\(s\) logged meanwhile were not forwarded$");
        Assert.True(counted.Success, again);
        Assert.InRange(int.Parse(counted.Groups[1].Value), 5, 40);
        var health = forwarding.Health; // what the daemon's metrics file writes (netlinkfence_forward_lost_total{where="unbound"}, ...)
        Assert.Equal(ulong.Parse(counted.Groups[1].Value), health.LostUnbound);
        Assert.Equal(1UL, health.ReaderRestarts);
        Assert.True(health.Connected && health.Sent >= 1, health.ToString());

        Assert.True(DeniedUntilForwarded(collector, 125), $"no denial at the collector after the reader was bound again; log: {Log}; collector: {collector.Console}");
        Assert.DoesNotContain(collector.Received(), m => DeniedTo(m, 124));
        // The collector is told of the gap, with the count the log gave (it would otherwise read the gap as a calm).
        var lost = Assert.Single(collector.Received(), m => m.MessageId == "LOST" && m.Data["lost@32473"]["where"] == "unbound");
        Assert.Equal(counted.Groups[1].Value, lost.Data["lost@32473"]["count"]);
    }

    /// <summary>Sends denied UDP to <paramref name="port"/> until the collector holds a denial of it (two minutes at most).</summary>
    private bool DeniedUntilForwarded(RsyslogCollector collector, int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            DenialTraffic.Udp(_net.Agent.Path, Denied, port, 1);
            if (collector.WaitFor(r => r.Any(m => DeniedTo(m, port)), TimeSpan.FromMilliseconds(500)).Any(m => DeniedTo(m, port)))
                return true;
        }
        return false;
    }

    private static bool DeniedTo(SyslogMessage message, int port) =>
        message.MessageId == "DENIED" && message.Data.TryGetValue("denial@32473", out var data) && data.GetValueOrDefault("dst") == Denied
            && data.GetValueOrDefault("dport") == port.ToString();

    private bool WaitForLog(string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_log.Any(l => l.Contains(text)))
                return true;
            Thread.Sleep(50);
        }
        return false;
    }

    private string Log => string.Join(" | ", _log);

    public void Dispose()
    {
        _ca.Dispose();
        _net.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
