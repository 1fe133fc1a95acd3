using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NetlinkFence.Logging;
using NetlinkFence.Logging.Syslog;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Logging;

/// <summary>
/// A forwarder with a fallback collector, against two real collectors (Debian's rsyslogd, gtls) in the world
/// namespace of an agent/world pair: the first collector down, then back.
/// </summary>
public sealed class SyslogFailoverTests : IDisposable
{
    private const string First = "198.51.100.20", Fallback = "198.51.100.21";
    private const int Port = 6514;

    private readonly string _directory = Directory.CreateTempSubdirectory("nlf-failover-").FullName;
    private readonly AgentAndWorld _net = new(First, Fallback);
    private readonly TestCertificates _ca;
    private readonly List<string> _log = [];

    public SyslogFailoverTests() => _ca = new TestCertificates(_directory, "test");

    private RsyslogCollector Collector(string address)
    {
        string directory = Directory.CreateDirectory(Path.Combine(_directory, address)).FullName;
        var (certificate, key) = _ca.Issue($"collector-{address}", address, null, server: true);
        return new RsyslogCollector(_net.World, directory, address, Port, _ca.CaFile, certificate, key);
    }

    private static DenialRecord Denial(int n) => new()
    {
        Time = DateTimeOffset.UtcNow,
        Family = AddressFamily.InterNetwork,
        Protocol = ProtocolType.Tcp,
        Source = IPAddress.Parse(AgentAndWorld.AgentV4),
        Destination = IPAddress.Parse("203.0.113.9"),
        DestinationPort = 443,
        Prefix = "EGRESS-DENIED: ",
        Verdict = "drop",
        Sequence = (uint)n,
    };

    private static HashSet<int> Denials(IEnumerable<SyslogMessage> messages) =>
        messages.Where(m => m.MessageId == "DENIED").Select(m => int.Parse(m.Data["denial@32473"]["nflogseq"])).ToHashSet();

    private bool Logged(string text)
    {
        lock (_log)
            return _log.Any(l => l.Contains(text));
    }

    private string Log()
    {
        lock (_log)
            return string.Join(" | ", _log);
    }

    private static async Task<bool> Eventually(Func<bool> done, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > within)
                return false;
            await Task.Delay(100);
        }
        return true;
    }

    /// <summary>
    /// While the first collector is down, denials go to the fallback at once (no backoff between the two); the first is
    /// tried again every FailbackAfter while the fallback keeps carrying denials, and once it answers, the forwarder
    /// goes back to it. The fallback's connection is closed with close_notify: rsyslogd closes its side after reading
    /// everything, so nothing written to the fallback is sent again to the first collector, and nothing is lost.
    /// </summary>
    [Fact]
    public async Task Denials_go_to_the_fallback_while_the_first_collector_is_down_and_back_to_it_when_it_answers()
    {
        using var fallback = Collector(Fallback);
        using var first = Collector(First);
        fallback.Start();
        await using var forwarder = await SyslogTlsForwarder.StartAsync(new SyslogTlsOptions
        {
            Host = First, Port = Port, CaFile = _ca.CaFile, NetworkNamespace = _net.Agent.Name, HostName = "agent-under-test",
            Fallbacks = [new DnsEndPoint(Fallback, Port)],
            FailbackAfter = TimeSpan.FromSeconds(3),
            Heartbeat = TimeSpan.FromSeconds(1), // each says where it went, so a merged view shows the host on its fallback
            // Long between rounds: reaching the fallback must not wait for a backoff.
            MinReconnectDelay = TimeSpan.FromSeconds(30), MaxReconnectDelay = TimeSpan.FromSeconds(30),
            Log = message => { lock (_log) _log.Add(message); },
        });
        for (int n = 0; n < 500; n++)
            Assert.True(forwarder.Enqueue(Denial(n)));
        Assert.True(Denials(fallback.WaitFor(r => Denials(r).Count >= 500)).SetEquals(Enumerable.Range(0, 500)), Log());
        var onFallback = forwarder.Status;
        Assert.True(onFallback is { Connected: true, OnFallback: true, Connections: 1 } && onFallback.Collector == $"{Fallback}:{Port}", onFallback.ToString());
        Assert.True(Logged($"cannot connect to {First}:{Port}") && Logged($"; trying {Fallback}:{Port}"), Log());
        Assert.True(Logged($"connected to {Fallback}:{Port} (certificate verified against {_ca.CaFile}), a fallback while {First}:{Port} cannot be reached"), Log());

        // The first collector is tried again, and the fallback goes on carrying denials meanwhile.
        Assert.True(await Eventually(() => Logged($"{First}:{Port} still cannot be reached"), TimeSpan.FromMinutes(1)), Log());
        for (int n = 500; n < 600; n++)
            Assert.True(forwarder.Enqueue(Denial(n)));
        Assert.True(Denials(fallback.WaitFor(r => Denials(r).Count >= 600)).SetEquals(Enumerable.Range(0, 600)), Log());
        Assert.Equal(1, forwarder.Status.Connections);

        first.Start();
        Assert.True(await Eventually(() => forwarder.Status is { Connected: true, OnFallback: false }, TimeSpan.FromMinutes(1)), $"{forwarder.Status}; {Log()}");
        Assert.Equal($"{First}:{Port}", forwarder.Status.Collector);
        Assert.True(Logged($"{First}:{Port} answers again: back to it from {Fallback}:{Port}"), Log());
        Assert.False(Logged("did not confirm its close"), Log()); // rsyslogd closes its side at close_notify, after reading what came before
        for (int n = 600; n < 1100; n++)
            Assert.True(forwarder.Enqueue(Denial(n)));
        var atFirst = Denials(first.WaitFor(r => Denials(r).Count >= 500));
        Assert.True(atFirst.SetEquals(Enumerable.Range(600, 500)), $"{atFirst.Count} at the first collector, from {atFirst.DefaultIfEmpty().Min()} to {atFirst.DefaultIfEmpty().Max()}; {Log()}");
        Assert.True(Denials(fallback.Received()).SetEquals(Enumerable.Range(0, 600)));
        static IEnumerable<(string, string)> Beats(List<SyslogMessage> received) => received.Where(m => m.MessageId == "HEARTBEAT")
            .Select(m => (m.Data["heartbeat@32473"]["collector"], m.Data["heartbeat@32473"]["fallback"]));
        Assert.Contains(($"{Fallback}:{Port}", "1"), Beats(fallback.Received()));
        Assert.DoesNotContain(Beats(fallback.Received()), b => b.Item2 != "1");
        Assert.Contains(($"{First}:{Port}", "0"), Beats(first.WaitFor(r => Beats(r).Any(), TimeSpan.FromSeconds(30))));
        Assert.Equal(0UL, forwarder.Status.Resent);
        Assert.Equal(0UL, forwarder.Status.Dropped);
    }

    /// <summary>
    /// A collector that goes away takes the last 30 s of messages with it, so they are written again to the next
    /// (at least once); the heartbeats among them are not: each named the first collector, and the fallback's view
    /// must not show the host on its first collector. A fresh heartbeat goes instead, naming the fallback.
    /// </summary>
    [Fact]
    public async Task Heartbeats_written_again_after_a_break_name_the_collector_they_go_to_now()
    {
        using var fallback = Collector(Fallback);
        using var first = Collector(First);
        first.Start();
        fallback.Start();
        await using var forwarder = await SyslogTlsForwarder.StartAsync(new SyslogTlsOptions
        {
            Host = First, Port = Port, CaFile = _ca.CaFile, NetworkNamespace = _net.Agent.Name, HostName = "agent-under-test",
            Fallbacks = [new DnsEndPoint(Fallback, Port)],
            FailbackAfter = TimeSpan.FromHours(1), // stays on the fallback for the rest of the test
            Heartbeat = TimeSpan.FromSeconds(1),
            MinReconnectDelay = TimeSpan.FromMilliseconds(500), MaxReconnectDelay = TimeSpan.FromSeconds(1),
            ResendWindow = TimeSpan.FromMinutes(10), // a loaded runner's slow rsyslogd stop must not age the denials out of it
            Log = message => { lock (_log) _log.Add(message); },
        });
        for (int n = 0; n < 100; n++)
            Assert.True(forwarder.Enqueue(Denial(n)));
        static List<(string Collector, string Fallback)> Beats(List<SyslogMessage> received) => received.Where(m => m.MessageId == "HEARTBEAT")
            .Select(m => (m.Data["heartbeat@32473"]["collector"], m.Data["heartbeat@32473"]["fallback"])).ToList();
        first.WaitFor(r => Denials(r).Count >= 100 && Beats(r).Count >= 2, TimeSpan.FromSeconds(60));

        first.Stop();
        // Written again to the fallback: the denials the first collector may not have read (it read them all, but TCP
        // cannot say so), and heartbeats from then on, each naming the fallback.
        var received = fallback.WaitFor(r => Denials(r).Count >= 100 && Beats(r).Count >= 2, TimeSpan.FromSeconds(60));
        Assert.True(Denials(received).SetEquals(Enumerable.Range(0, 100)), Log());
        Assert.True(forwarder.Status is { OnFallback: true, Resent: >= 100 }, $"{forwarder.Status}; {Log()}");
        Assert.All(Beats(received), beat => Assert.Equal(($"{Fallback}:{Port}", "1"), beat));
    }

    /// <summary>
    /// When both collectors refuse, each failure is said, and what is queued waits for whichever answers first: here
    /// the fallback, started last. A fallback whose certificate does not name it is refused like any collector.
    /// </summary>
    [Fact]
    public async Task With_every_collector_down_denials_wait_and_reach_the_first_one_that_answers()
    {
        using var fallback = Collector(Fallback);
        await using var forwarder = await SyslogTlsForwarder.StartAsync(new SyslogTlsOptions
        {
            Host = First, Port = Port, CaFile = _ca.CaFile, NetworkNamespace = _net.Agent.Name,
            Fallbacks = [new DnsEndPoint(Fallback, Port)],
            MinReconnectDelay = TimeSpan.FromMilliseconds(200), MaxReconnectDelay = TimeSpan.FromSeconds(1),
            Log = message => { lock (_log) _log.Add(message); },
        });
        for (int n = 0; n < 100; n++)
            forwarder.Enqueue(Denial(n));
        Assert.True(await Eventually(() => Logged($"; trying {Fallback}:{Port}") && Logged($"cannot connect to {Fallback}:{Port}") && Logged("; retrying in"),
            TimeSpan.FromMinutes(1)), Log());
        Assert.False(forwarder.Status.Connected);
        Assert.Equal(100, forwarder.Status.Pending);
        fallback.Start();
        Assert.True(Denials(fallback.WaitFor(r => Denials(r).Count >= 100)).SetEquals(Enumerable.Range(0, 100)), Log());
        Assert.True(forwarder.Status.OnFallback, forwarder.Status.ToString());
    }

    /// <summary>
    /// <c>netlinkfence collectors</c> checks each collector from the policy's namespace, through the policy applied
    /// there: the first, allowed, is reached and confirms reading the TEST message; the fallback, which the policy
    /// does not let out (rejected: the connect fails at once), is a failure with the reason and a pointer to lint.
    /// Once the policy allows both, both are OK and exit is 0.
    /// </summary>
    [Fact]
    public void The_collectors_verb_checks_each_collector_through_the_policy()
    {
        using var first = Collector(First);
        using var fallback = Collector(Fallback);
        first.Start();
        fallback.Start();
        string policy = Path.Combine(_directory, "policy.yaml");
        string Policy(string allowed) => $$"""
            version: 1
            log:
              remote: { tls: ["{{First}}:{{Port}}", "{{Fallback}}:{{Port}}"], ca: {{_ca.CaFile}} }
            egress:
              deny: reject
              allow:
                - { name: syslog-tls, to: [{{allowed}}], tcp: [{{Port}}] }
            """;
        File.WriteAllText(policy, Policy(First));
        var apply = CliRunner.Run($"apply {policy} --netns {_net.Agent.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr + apply.Stdout);

        var check = CliRunner.Run($"collectors --policy {policy} --netns {_net.Agent.Name}");
        Assert.True(check.ExitCode == 1, check.Stdout + check.Stderr);
        var lines = check.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"{First}:{Port} (first): OK: TLS verified, a TEST message written, and the collector confirmed reading it (", lines[0]);
        Assert.Contains("its certificate is valid until 20", lines[0]);
        Assert.StartsWith($"{Fallback}:{Port} (fallback): FAILED: cannot connect to {Fallback}:{Port}: HostUnreachable", lines[1]);
        Assert.Contains("'netlinkfence lint' says whether an egress entry lets the forwarder out", check.Stderr);
        var test = first.WaitFor(r => r.Any(m => m.MessageId == "TEST"), TimeSpan.FromSeconds(30)).Single(m => m.MessageId == "TEST");
        Assert.Equal(10 * 8 + 5, test.Priority); // authpriv (10), notice (5): not a denial
        Assert.Equal($"{First}:{Port}", test.Data["test@32473"]["collector"]);
        Assert.Empty(fallback.Received());

        File.WriteAllText(policy, Policy($"{First}, {Fallback}"));
        apply = CliRunner.Run($"apply {policy} --netns {_net.Agent.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr + apply.Stdout);
        var json = CliRunner.Run($"collectors --policy {policy} --netns {_net.Agent.Name} --output json");
        Assert.True(json.ExitCode == 0, json.Stdout + json.Stderr);
        using var document = System.Text.Json.JsonDocument.Parse(json.Stdout);
        var collectors = document.RootElement.GetProperty("collectors").EnumerateArray().ToList();
        Assert.Equal([($"{First}:{Port}", "first"), ($"{Fallback}:{Port}", "fallback")],
            collectors.Select(c => (c.GetProperty("collector").GetString(), c.GetProperty("role").GetString())));
        Assert.All(collectors, c => Assert.True(c.GetProperty("reached").GetBoolean() && c.GetProperty("confirmed").GetBoolean()
            && c.GetProperty("collector_certificate_expires").GetDateTimeOffset() > DateTimeOffset.UtcNow && !c.TryGetProperty("error", out _), c.ToString()));
        Assert.Contains(fallback.WaitFor(r => r.Any(m => m.MessageId == "TEST"), TimeSpan.FromSeconds(30)), m => m.MessageId == "TEST");

        File.WriteAllText(policy, "version: 1\negress:\n  allow: []\n");
        var none = CliRunner.Run($"collectors --policy {policy} --netns {_net.Agent.Name}");
        Assert.True(none.ExitCode == 2 && none.Stderr.Contains("has no log.remote: there is no collector to check"), none.Stderr);
    }

    /// <summary>
    /// What watch and the daemon say on standard error when denials pile up names every collector they wait for, not
    /// the first alone: a full queue, and what was not delivered at the end. No collector answers here (a namespace of
    /// its own with no route), so the queue of one fills at once.
    /// </summary>
    [Fact]
    public async Task A_full_queue_and_the_undelivered_rest_name_every_collector()
    {
        using var nowhere = TestNamespace.Create();
        await using var forwarder = await SyslogTlsForwarder.StartAsync(new SyslogTlsOptions
        {
            Host = First, Port = Port, CaFile = _ca.CaFile, NetworkNamespace = nowhere.Name, QueueCapacity = 1,
            Fallbacks = [new DnsEndPoint(Fallback, Port)],
        });
        var errors = new StringWriter();
        var sink = new NetlinkFence.Cli.Watch.ForwardingSink(forwarder, errors, TimeSpan.FromSeconds(1));
        for (int n = 0; n < 3; n++)
            await sink.WriteAsync(Denial(n), null, CancellationToken.None);
        await sink.CompleteAsync(CancellationToken.None);
        string said = errors.ToString();
        Assert.Contains($"forward: the queue for {First}:{Port} or {Fallback}:{Port} is full (1): denials are dropped and counted", said);
        Assert.Contains($"1 denial(s) not delivered to {First}:{Port} or {Fallback}:{Port} within 1 s", said);
        Assert.Equal(2UL, forwarder.Status.Dropped);
    }

    [Fact]
    public async Task A_fallback_without_a_host_or_port_is_refused_at_start()
    {
        var options = new SyslogTlsOptions { Host = First, CaFile = _ca.CaFile, Fallbacks = [new DnsEndPoint(Fallback, 0)] };
        await Assert.ThrowsAsync<ArgumentException>(() => SyslogTlsForwarder.StartAsync(options));
    }

    public void Dispose()
    {
        _ca.Dispose();
        _net.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
