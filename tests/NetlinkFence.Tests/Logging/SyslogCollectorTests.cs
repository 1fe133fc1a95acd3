using System.Net;
using System.Net.Sockets;
using NetlinkFence.Logging;
using NetlinkFence.Logging.Syslog;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Logging;

/// <summary>
/// The forwarder against a real collector: Debian's rsyslogd with the gtls driver, started in the world namespace
/// of an agent/world pair; the forwarder connects from the agent. Nothing leaves the test's namespaces.
/// </summary>
public sealed class SyslogCollectorTests : IDisposable
{
    private const string Collector = "198.51.100.20";
    private const int Port = 6514;

    private readonly string _directory = Directory.CreateTempSubdirectory("nlf-syslog-").FullName;
    private readonly AgentAndWorld _net = new(Collector);
    private readonly TestCertificates _ca;
    private readonly List<string> _log = [];
    private string? _collectorCertificate; // the last collector's, for its validity

    public SyslogCollectorTests() => _ca = new TestCertificates(_directory, "test");

    private RsyslogCollector StartCollector(TestCertificates signer, string? ip = Collector, string? permittedPeer = null)
    {
        var (certificate, key) = signer.Issue("collector", ip, null, server: true);
        _collectorCertificate = certificate;
        var collector = new RsyslogCollector(_net.World, _directory, Collector, Port, _ca.CaFile, certificate, key, permittedPeer);
        collector.Start();
        return collector;
    }

    private Task<SyslogTlsForwarder> StartForwarder(int capacity = 10_000, (string, string)? client = null) =>
        SyslogTlsForwarder.StartAsync(new SyslogTlsOptions
        {
            Host = Collector,
            Port = Port,
            CaFile = _ca.CaFile,
            ClientCertificateFile = client?.Item1,
            ClientKeyFile = client?.Item2,
            NetworkNamespace = _net.Agent.Name,
            QueueCapacity = capacity,
            HostName = "agent-under-test",
            MinReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
            Log = message => { lock (_log) _log.Add(message); },
        });

    private static DenialRecord Denial(int n) => new()
    {
        Time = DateTimeOffset.UtcNow,
        Family = AddressFamily.InterNetwork,
        Protocol = n % 2 == 0 ? ProtocolType.Udp : ProtocolType.Tcp,
        Source = IPAddress.Parse(AgentAndWorld.AgentV4),
        SourcePort = (ushort)(40000 + n % 1000),
        Destination = IPAddress.Parse($"203.0.113.{n % 250 + 1}"),
        DestinationPort = (ushort)(1000 + n),
        Uid = 118,
        Gid = 124,
        UserName = "_chrony",
        OutputInterface = "eth0",
        Prefix = "EGRESS-DENIED: ",
        Chain = "egress_denied",
        Verdict = "drop",
        Sequence = (uint)n,
        PacketLength = 76,
    };

    private static HashSet<string> NflogSequences(IEnumerable<SyslogMessage> messages) =>
        messages.Where(m => m.MessageId == "DENIED").Select(m => m.Data["denial@32473"]["nflogseq"]).ToHashSet();

    [Fact]
    public async Task AThousandDenialsArriveAsRfc5424MessagesWithTheirFields()
    {
        using var collector = StartCollector(_ca);
        await using var forwarder = await StartForwarder();
        for (int n = 0; n < 1000; n++)
            Assert.True(forwarder.Enqueue(Denial(n), n == 7 ? new DenialContext("no entry allows 203.0.113.8", "ntp", "policy.yaml:12:7") : null));
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
            await forwarder.FlushAsync(timeout.Token);

        var received = collector.WaitFor(r => NflogSequences(r).Count >= 1000);
        Assert.Equal(Enumerable.Range(0, 1000).Select(n => n.ToString()).ToHashSet(), NflogSequences(received));
        Assert.All(received, m =>
        {
            Assert.Equal(10 * 8 + 4, m.Priority); // authpriv (10), warning (4)
            Assert.Equal(1, m.Version);
            Assert.Equal("agent-under-test", m.HostName);
            Assert.Equal("netlinkfence", m.AppName);
            Assert.Equal("DENIED", m.MessageId);
        });
        var seventh = received.Single(m => m.Data["denial@32473"]["nflogseq"] == "7").Data["denial@32473"];
        Assert.Equal("tcp", seventh["proto"]);
        Assert.Equal("203.0.113.8", seventh["dst"]);
        Assert.Equal("1007", seventh["dport"]);
        Assert.Equal(AgentAndWorld.AgentV4, seventh["src"]);
        Assert.Equal("118", seventh["uid"]);
        Assert.Equal("_chrony", seventh["user"]);
        Assert.Equal("egress_denied", seventh["chain"]);
        Assert.Equal("drop", seventh["verdict"]);
        Assert.Equal("ntp", seventh["entry"]);
        Assert.Equal("policy.yaml:12:7", seventh["policy"]);
        Assert.Equal("no entry allows 203.0.113.8", seventh["reason"]);
        Assert.Equal("agent-under-test", seventh["host"]);
        Assert.Contains("EGRESS-DENIED: tcp 203.0.113.2:40007 -> 203.0.113.8:1007 uid=118(_chrony)", received.Single(m => m.Data["denial@32473"]["nflogseq"] == "7").Text);
        Assert.Equal(1, forwarder.Status.Connections);
    }

    [Fact]
    public async Task ACollectorRestartLosesNoneOfTheRecordsQueuedMeanwhile()
    {
        var collector = StartCollector(_ca);
        try
        {
            await using var forwarder = await StartForwarder();
            for (int n = 0; n < 1000; n++)
                forwarder.Enqueue(Denial(n));
            Assert.Equal(1000, NflogSequences(collector.WaitFor(r => NflogSequences(r).Count >= 1000)).Count);

            collector.Stop();
            // Stopped for 5 s, with denials arriving all along.
            for (int second = 0; second < 5; second++)
            {
                for (int n = 0; n < 200; n++)
                    Assert.True(forwarder.Enqueue(Denial(1000 + second * 200 + n)));
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
            collector.Start();

            var received = collector.WaitFor(r => NflogSequences(r).Count >= 2000);
            var missing = Enumerable.Range(0, 2000).Select(n => n.ToString()).Except(NflogSequences(received)).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} lost, e.g. {string.Join(", ", missing.Take(10))}; forwarder: {forwarder.Status}; log: {string.Join(" | ", _log)}");
            Assert.True(forwarder.Status.Connections >= 2, forwarder.Status.ToString());
            Assert.Equal(0UL, forwarder.Status.Dropped);
            // Resent messages are recognisable: the same run and seq.
            var ids = received.Select(m => (m.Data["denial@32473"]["run"], m.Data["denial@32473"]["seq"])).ToList();
            Assert.Equal(ids.Distinct().Count(), received.Select(m => m.Data["denial@32473"]["nflogseq"]).Distinct().Count());
        }
        finally
        {
            collector.Dispose();
        }
    }

    [Fact]
    public async Task ACollectorWhoseCertificateIsNotSignedByTheCaGetsNothingAndTheErrorSaysWhy()
    {
        using var other = new TestCertificates(_directory, "other");
        using var collector = StartCollector(other);
        await using var forwarder = await StartForwarder();
        forwarder.Enqueue(Denial(1));
        var status = await WaitForError(forwarder);
        Assert.Contains($"certificate of {Collector}:{Port} (CN=collector, issued by CN=other) is not signed by {_ca.CaFile}", status.LastError);
        Assert.Matches("PartialChain|UntrustedRoot", status.LastError);
        Assert.Equal(0, status.Connections);
        Assert.Equal(1, status.Pending);
        Assert.Empty(collector.Received());
    }

    [Fact]
    public async Task ACollectorCertificateForAnotherAddressIsRefused()
    {
        using var collector = StartCollector(_ca, ip: "198.51.100.99");
        await using var forwarder = await StartForwarder();
        forwarder.Enqueue(Denial(1));
        var status = await WaitForError(forwarder);
        Assert.Contains($"does not name {Collector} in its subjectAltName", status.LastError);
        Assert.Equal(0, status.Connections);
        Assert.Empty(collector.Received());
    }

    [Fact]
    public async Task AFullQueueCountsDropsAndReportsThemOnTheNextConnection()
    {
        await using var forwarder = await StartForwarder(capacity: 100);
        int accepted = Enumerable.Range(0, 250).Count(n => forwarder.Enqueue(Denial(n)));
        Assert.Equal(100, accepted);
        Assert.Equal(150UL, forwarder.Status.Dropped);

        using var collector = StartCollector(_ca);
        var received = collector.WaitFor(r => r.Count >= 101);
        Assert.Equal(101, received.Count);
        var report = received[0];
        Assert.Equal("DROPPED", report.MessageId);
        Assert.Equal("150", report.Data["dropped@32473"]["count"]);
        Assert.StartsWith("150 denials were dropped", report.Text);
        Assert.Equal(Enumerable.Range(0, 100).Select(n => n.ToString()).ToHashSet(), NflogSequences(received));
        Assert.Equal(0UL, forwarder.Status.DroppedUnreported);
    }

    [Fact]
    public async Task Unlogged_reports_add_up_until_written_and_reach_the_collector_as_one_message()
    {
        await using var forwarder = await StartForwarder();
        var from = DateTimeOffset.Parse("2026-12-06T15:00:00Z");
        forwarder.ReportUnlogged(40, from, from.AddSeconds(10));
        forwarder.ReportUnlogged(0, from, from.AddSeconds(15)); // nothing to say: no report
        forwarder.ReportUnlogged(2, from.AddSeconds(10), from.AddSeconds(20));

        using var collector = StartCollector(_ca);
        var report = Assert.Single(collector.WaitFor(r => r.Count >= 1));
        Assert.Equal("UNLOGGED", report.MessageId);
        Assert.Equal("42", report.Data["unlogged@32473"]["count"]);
        Assert.Equal("2026-12-06T15:00:00.000000Z", report.Data["unlogged@32473"]["first"]);
        Assert.Equal("2026-12-06T15:00:20.000000Z", report.Data["unlogged@32473"]["last"]);
        Assert.StartsWith("42 denied packets came over the policy's log.rate between 2026-12-06T15:00:00.000000Z and 2026-12-06T15:00:20.000000Z", report.Text);
        await forwarder.FlushAsync(); // written: nothing left to report
        Assert.Single(collector.Received());
    }

    /// <summary>
    /// What the NFLOG reader lost (the kernel's queue, the reader's buffer) reaches the collector through the sink the
    /// daemon and <c>watch --forward</c> share, one <c>LOST</c> message per kind; reports of a kind not yet written add up.
    /// </summary>
    [Fact]
    public async Task Losses_before_the_forwarder_reach_the_collector_as_lost_reports_of_each_kind()
    {
        await using var forwarder = await StartForwarder();
        Assert.Throws<ArgumentOutOfRangeException>(() => forwarder.ReportLost(1, (DenialLoss)7, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));
        var sink = new NetlinkFence.Cli.Watch.ForwardingSink(forwarder, TextWriter.Null, TimeSpan.FromSeconds(5));
        var before = DateTimeOffset.UtcNow;
        await sink.LostAsync(lostInKernel: 7, droppedSlowConsumer: 0, CancellationToken.None);
        await sink.LostAsync(lostInKernel: 5, droppedSlowConsumer: 2, CancellationToken.None);
        forwarder.ReportLost(0, DenialLoss.NoReader, before, before); // nothing to say: no report

        using var collector = StartCollector(_ca);
        var received = collector.WaitFor(r => r.Count >= 2);
        var lost = received.Where(m => m.MessageId == "LOST").ToDictionary(m => m.Data["lost@32473"]["where"], m => m.Data["lost@32473"]["count"]);
        Assert.Equal(new Dictionary<string, string> { ["kernel"] = "12", ["reader"] = "2" }, lost);
        var kernel = received.Single(m => m.Data["lost@32473"]["where"] == "kernel");
        Assert.True(DateTimeOffset.Parse(kernel.Data["lost@32473"]["first"]) >= before.AddSeconds(-1), kernel.Text);
        Assert.Contains("the NFLOG socket's receive queue overflowed", kernel.Text);
        await forwarder.FlushAsync(); // written: nothing left to report
        Assert.Equal(2, collector.Received().Count);
    }

    /// <summary>
    /// With a heartbeat, the collector hears from the forwarder when it starts and then every interval, with nothing
    /// to forward: a silence longer than the interval means forwarding stopped. Each heartbeat carries the state the
    /// caller vouches for (the daemon: its table), or <c>state="unreadable"</c> when that cannot be read. Heartbeats due
    /// while the collector is away are one when it is back: readings made before it ran are never sent. Without a
    /// heartbeat (every other test here), the forwarder sends denials and reports only.
    /// </summary>
    [Fact]
    public async Task A_heartbeat_reaches_the_collector_at_start_and_every_interval_with_what_was_sent()
    {
        int readings = 0, mode = 2; // 0: the reading fails; 1: it names a field no SD-NAME can be; 2: the state
        await using var forwarder = await SyslogTlsForwarder.StartAsync(new SyslogTlsOptions
        {
            Host = Collector, Port = Port, CaFile = _ca.CaFile, NetworkNamespace = _net.Agent.Name, HostName = "agent-under-test",
            MinReconnectDelay = TimeSpan.FromMilliseconds(100), MaxReconnectDelay = TimeSpan.FromSeconds(1), Heartbeat = TimeSpan.FromSeconds(2),
            Log = message => { lock (_log) _log.Add(message); },
            HeartbeatState = _ =>
            {
                int reading = Interlocked.Increment(ref readings);
                return Volatile.Read(ref mode) switch
                {
                    0 => throw new IOException("the table cannot be read"),
                    1 => Task.FromResult<IReadOnlyList<KeyValuePair<string, string>>>([new("bad name", "x")]),
                    _ => Task.FromResult<IReadOnlyList<KeyValuePair<string, string>>>([new("table", "netlinkfence"), new("reading", reading.ToString()), new("quote", "a\"]b")]),
                };
            },
        });
        // No collector yet: the first readings' heartbeats wait, each replacing the last.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (Volatile.Read(ref readings) < 3 && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        using var collector = StartCollector(_ca);
        static List<SyslogMessage> Heartbeats(List<SyslogMessage> received) => received.Where(m => m.MessageId == "HEARTBEAT").ToList();
        static IReadOnlyDictionary<string, string> Beat(SyslogMessage m) => m.Data["heartbeat@32473"];

        var first = Heartbeats(collector.WaitFor(r => Heartbeats(r).Count >= 1, TimeSpan.FromSeconds(60))).First();
        Assert.True(Beat(first).GetValueOrDefault("every") == "2" && Beat(first).GetValueOrDefault("sent") == "0" && Beat(first).GetValueOrDefault("dropped") == "0"
            && Beat(first).GetValueOrDefault("table") == "netlinkfence" && Beat(first).GetValueOrDefault("quote") == "a\"]b"
            && int.Parse(Beat(first).GetValueOrDefault("reading", "0")) >= 3 && !Beat(first).ContainsKey("state"), first.Text);
        for (ushort port = 1; port <= 5; port++)
            forwarder.Enqueue(new DenialRecord { Time = DateTimeOffset.UtcNow, Protocol = ProtocolType.Udp, DestinationPort = port, Prefix = "EGRESS-DENIED: ", Verdict = "drop" });
        var received = collector.WaitFor(r => Heartbeats(r).Count >= 3, TimeSpan.FromSeconds(90));
        var beats = Heartbeats(received);
        Assert.True(beats.Count >= 3, $"{beats.Count} heartbeat(s)");
        Assert.Equal(5, received.Count(m => m.MessageId == "DENIED"));
        Assert.True(ulong.Parse(Beat(beats[^1])["sent"]) >= 6, beats[^1].Text); // the five denials and the first heartbeat, at least
        var seqs = beats.Select(b => ulong.Parse(Beat(b)["seq"])).ToList();
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(Beat(first)["run"], Beat(beats[^1])["run"]);

        // A reading that fails: the heartbeat still comes (the forwarder lives), saying it cannot tell how the host is.
        Volatile.Write(ref mode, 0);
        var unreadable = Heartbeats(collector.WaitFor(r => Heartbeats(r).Any(b => Beat(b).GetValueOrDefault("state") == "unreadable"), TimeSpan.FromSeconds(60)))
            .FirstOrDefault(b => Beat(b).GetValueOrDefault("state") == "unreadable");
        Assert.True(unreadable is not null && !Beat(unreadable).ContainsKey("table"), "no unreadable heartbeat");
        // A field that is no SD-NAME is refused, never sent.
        Volatile.Write(ref mode, 1);
        deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!Logged("'bad name' is not an RFC 5424 SD-NAME") && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        await forwarder.FlushAsync();
        Assert.True(Logged("the heartbeat cannot say the state it vouches for (the table cannot be read)"), string.Join(" | ", _log));
        Assert.True(Logged("'bad name' is not an RFC 5424 SD-NAME"), string.Join(" | ", _log));
        beats = Heartbeats(collector.Received());
        Assert.DoesNotContain(beats, b => Beat(b).Keys.Any(k => k.StartsWith("bad", StringComparison.Ordinal)));
        Assert.DoesNotContain(beats, b => Beat(b).GetValueOrDefault("reading") is "1" or "2"); // due before the collector ran: replaced, not queued
    }

    /// <summary>
    /// The first heartbeat is the first message the collector hears, even when a denial is queued at once and reading
    /// the state the heartbeat vouches for takes a while: a collector that keys a host's presence on its heartbeats never
    /// sees a denial from a forwarder it does not know started.
    /// </summary>
    [Fact]
    public async Task The_first_heartbeat_comes_before_a_denial_queued_while_its_state_is_read()
    {
        using var collector = StartCollector(_ca);
        // A first forwarder warms up TLS in this process, so the second connects well within the 5 s a reading may take.
        await using (var warmUp = await StartForwarder())
        {
            warmUp.Enqueue(Denial(0));
            collector.WaitFor(r => r.Count >= 1, TimeSpan.FromSeconds(60));
        }
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var forwarder = await SyslogTlsForwarder.StartAsync(new SyslogTlsOptions
        {
            Host = Collector, Port = Port, CaFile = _ca.CaFile, NetworkNamespace = _net.Agent.Name, HostName = "agent-under-test",
            MinReconnectDelay = TimeSpan.FromMilliseconds(100), MaxReconnectDelay = TimeSpan.FromSeconds(1), Heartbeat = TimeSpan.FromMinutes(10),
            Log = message =>
            {
                lock (_log)
                    _log.Add(message);
                if (message.StartsWith("connected to", StringComparison.Ordinal))
                    connected.TrySetResult();
            },
            HeartbeatState = async token =>
            {
                // Answered only once the connection is up and the queued denial has had a second to go first.
                await connected.Task.WaitAsync(token);
                await Task.Delay(1000, token);
                return [new("table", "netlinkfence")];
            },
        });
        forwarder.Enqueue(Denial(1));
        var received = collector.WaitFor(r => r.Count(m => m.MessageId == "DENIED") >= 2, TimeSpan.FromSeconds(60));
        Assert.Equal(["DENIED", "HEARTBEAT", "DENIED"], received.Select(m => m.MessageId).ToArray());
    }

    private bool Logged(string text)
    {
        lock (_log)
            return _log.Any(l => l.Contains(text));
    }

    [Fact]
    public async Task AClientCertificateIsPresentedToACollectorThatRequiresOne()
    {
        var client = _ca.Issue("agent.test", null, "agent.test", server: false);
        using var collector = StartCollector(_ca, permittedPeer: "agent.test");
        await using (var anonymous = await StartForwarder())
        {
            // Without a certificate the collector hangs up (during or right after the handshake): nothing is accepted.
            anonymous.Enqueue(Denial(4));
            Assert.NotNull((await WaitForError(anonymous)).LastError);
        }
        await using var forwarder = await StartForwarder(client: client);
        forwarder.Enqueue(Denial(5));
        var received = collector.WaitFor(r => r.Count >= 1);
        Assert.Equal(["5"], NflogSequences(received));
        // Both certificates' ends, as this connection verified and presented them (the metrics and the expiry warning use these).
        using (var presented = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(client.Item1)))
            Assert.Equal(new DateTimeOffset(presented.NotAfter.ToUniversalTime(), TimeSpan.Zero), forwarder.Status.ClientCertificateExpires);
        using (var verified = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(_collectorCertificate!)))
            Assert.Equal(new DateTimeOffset(verified.NotAfter.ToUniversalTime(), TimeSpan.Zero), forwarder.Status.CollectorCertificateExpires);
        Assert.True(Logged($"the client certificate {client.Item1} expires at ") && Logged("the collector's certificate expires at "), string.Join(" | ", _log));
    }

    /// <summary>
    /// The CLI end to end: a policy with log.remote (and the entry lint asks for) applied in the agent; <c>watch
    /// --forward</c> prints denied NTP and the collector receives each with the policy's reason, and the entry (with its
    /// file:line:column) whose address it is: the address is allowed, on another port.
    /// </summary>
    /// <summary>A policy with <c>log.remote</c> to the test's collector, applied in the agent namespace.</summary>
    private string ApplyForwardingPolicy(string rate)
    {
        string policy = Path.Combine(_directory, "policy.yaml");
        File.WriteAllText(policy, $$"""
            version: 1
            log:
              prefix: "EGRESS-DENIED: "
              rate: {{rate}}
              remote: { tls: "{{Collector}}:{{Port}}", ca: {{_ca.CaFile}}, heartbeat: 10s }
            egress:
              allow:
                - { name: syslog-tls, to: [{{Collector}}], tcp: [{{Port}}] }
                - { name: ntp-https, to: [198.51.100.7], tcp: [443] }
            """);
        Assert.DoesNotContain("remote-log", CliRunner.Run($"lint {policy}").Stdout);
        var apply = CliRunner.Run($"apply {policy} --netns {_net.Agent.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr + apply.Stdout);
        return policy;
    }

    /// <summary>Starts <c>watch --forward</c> in the agent namespace and waits until it reads its group.</summary>
    private async Task<(System.Diagnostics.Process Watch, Task<string> Stdout, Func<string> Errors)> StartWatchForward(string policy, string arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet", $"{CliRunner.CliPath} --netns {_net.Agent.Name} watch --policy {policy} --forward {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var watch = System.Diagnostics.Process.Start(start)!;
        var stderr = new System.Text.StringBuilder();
        watch.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        watch.BeginErrorReadLine();
        var stdout = watch.StandardOutput.ReadToEndAsync();
        string Errors() { lock (stderr) return stderr.ToString(); }
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!Errors().Contains("watching NFLOG group") && !watch.HasExited && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        return (watch, stdout, Errors);
    }

    [Fact]
    public async Task WatchForwardShipsRealDenialsThroughThePolicysOwnAllowEntry()
    {
        using var collector = StartCollector(_ca);
        // No IPv6 in the agent for this test: the new link's router solicitations and MLD reports are denied too, and
        // during the wait for the heartbeat below they could be all three denials watch counts (seen once under load).
        _net.Agent.Exec("sysctl", "-qw net.ipv6.conf.all.disable_ipv6=1");
        string policy = ApplyForwardingPolicy("10/second");
        // The table as an older build applied it (the same rules): the heartbeats say which build sends them and which
        // applied the table, so a collector sees the hosts upgraded since their last apply.
        await OtherBuild.RelabelAsync(_net.Agent, "netlinkfence", "netlinkfence 0.4.0");
        var (watch, stdout, Errors) = await StartWatchForward(policy, "--count 3 --output json");
        using var _ = watch;
        // The heartbeat at start goes out once the table's state is read (a listing, with a cold JIT): waited for before
        // any denial is made, so it is surely the first thing the collector hears of watch.
        Assert.True(collector.WaitFor(r => r.Any(m => m.MessageId == "HEARTBEAT"), TimeSpan.FromMinutes(1)).Any(m => m.MessageId == "HEARTBEAT"),
            $"no heartbeat at start; watch: {Errors()}; collector: {collector.Console}");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        // Denied NTP, a datagram at a time until watch has seen three (the log rate limit may skip some).
        while (!watch.HasExited && DateTime.UtcNow < deadline)
        {
            DenialTraffic.Udp(_net.Agent.Path, "198.51.100.7", 123, 1);
            await Task.Delay(200);
        }
        Assert.True(watch.WaitForExit(TimeSpan.FromMinutes(1)), Errors());
        watch.WaitForExit(); // the timed wait does not wait for the redirected output; this one does (stderr's last lines)
        Assert.True(watch.ExitCode == 0, Errors());
        Assert.Equal(3, (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var received = collector.WaitFor(r => r.Count(m => m.MessageId == "DENIED") >= 3).Where(m => m.MessageId == "DENIED").ToList();
        Assert.True(received.Count == 3, $"{received.Count} received; watch: {Errors()}");
        // Each one the test's NTP (the agent has no IPv6 here, so none of the link's own chatter).
        var ntp = received.Select(m => m.Data["denial@32473"]).Where(d => d.GetValueOrDefault("dst") == "198.51.100.7").ToList();
        Assert.True(ntp.Count == 3, $"{ntp.Count} NTP denials among {received.Count}");
        foreach (var data in ntp)
        {
            string all = string.Join(" ", data.Select(p => $"{p.Key}={p.Value}"));
            Assert.True(data.GetValueOrDefault("proto") == "udp" && data.GetValueOrDefault("dst") == "198.51.100.7" && data.GetValueOrDefault("dport") == "123"
                && data.GetValueOrDefault("uid") == "0" && data.GetValueOrDefault("reason") == "198.51.100.7 is allowed, but not udp/123"
                && data.GetValueOrDefault("entry") == "ntp-https" && data.GetValueOrDefault("policy") == $"{policy}:9:7"
                && data.GetValueOrDefault("prefix") == "EGRESS-DENIED: ", all);
        }
        Assert.Contains($"connected to {Collector}:{Port}", Errors());
        // The policy's heartbeat: the first thing the collector heard from watch, before any denial.
        var arrived = collector.Received();
        Assert.Equal("HEARTBEAT", arrived[0].MessageId);
        var heartbeat = arrived[0].Data["heartbeat@32473"];
        Assert.True(heartbeat.GetValueOrDefault("every") == "10" && heartbeat.GetValueOrDefault("sent") == "0" && heartbeat.GetValueOrDefault("table") == "netlinkfence"
            && heartbeat.GetValueOrDefault("present") == "1" && heartbeat.GetValueOrDefault("matches") == "1" && heartbeat.GetValueOrDefault("owned") == "0"
            && heartbeat.GetValueOrDefault("build") == OtherBuild.ThisBuild() && heartbeat.GetValueOrDefault("appliedby") == "netlinkfence 0.4.0",
            string.Join(" ", heartbeat)); // the table apply made, which nothing owns (no daemon)
    }

    /// <summary>
    /// A flood against <c>log.rate</c> while <c>watch --forward</c> runs: the collector is told how many denials the
    /// kernel did not log (<c>UNLOGGED</c>), as the daemon tells it. The run is shorter than a reporting interval, so
    /// the count arrives with the last report, made when watch ends.
    /// </summary>
    [Fact]
    public async Task WatchForwardTellsTheCollectorOfTheDenialsOverTheLogRate()
    {
        using var collector = StartCollector(_ca);
        string policy = ApplyForwardingPolicy("1/second");
        var (watch, _, Errors) = await StartWatchForward(policy, "--duration 6s");
        using var _ = watch;
        // 200 datagrams a second for 2 s against 1/second (burst 5): most are in no log.
        long sent = await Task.Run(() => DenialTraffic.UdpAtRate(_net.Agent.Path, "198.51.100.7", 123, 200, TimeSpan.FromSeconds(2)));
        Assert.True(watch.WaitForExit(TimeSpan.FromMinutes(1)), Errors());
        watch.WaitForExit(); // the timed wait does not wait for the redirected output; this one does (stderr's last lines)
        Assert.True(watch.ExitCode == 0, Errors());

        ulong unlogged = SyslogMessage.UnloggedCount(collector.WaitFor(r => SyslogMessage.UnloggedCount(r) >= (ulong)(sent / 2), TimeSpan.FromSeconds(60)));
        Assert.True(unlogged >= (ulong)(sent / 2) && unlogged <= (ulong)sent + 50 /* the link's own IPv6 chatter is denied too */,
            $"sent {sent}, reported unlogged {unlogged}; watch: {Errors()}; collector: {collector.Console}");
        Assert.Matches(@"netlinkfence: forward: \d+ denied packet\(s\) came over log\.rate since \d\d:\d\d:\d\d and are in no log; told 198\.51\.100\.20:6514", Errors());
        Assert.Contains("came over log.rate meanwhile and are in no log", Errors()); // and the user is told too
    }

    private static async Task<SyslogForwarderStatus> WaitForError(SyslogTlsForwarder forwarder)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (forwarder.Status.LastError is null && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        return forwarder.Status;
    }

    public void Dispose()
    {
        _ca.Dispose();
        _net.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
