using NetlinkFence.Tests.Logging;
using NetlinkFence.Tests.TestSupport;
using Xunit;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// The daemon forwards denials (issue 12, <c>log.remote</c>): <c>run</c> in the agent of an agent/world pair,
/// Debian's rsyslogd (gtls) in the world; NTP from the agent is denied, read from the policy's NFLOG group and arrives
/// at the collector with the policy's reason, entry and file:line. A SIGHUP that moves the NFLOG group restarts the
/// pipeline on the new group, and the next denials are explained by the reloaded policy.
/// </summary>
public sealed class DaemonForwardingTests : IDisposable
{
    private const string Collector = "198.51.100.20";
    private const string NtpServer = "198.51.100.7";
    private const int Port = 6514;

    private readonly string _directory = Directory.CreateTempSubdirectory("nlf-daemon-forward-").FullName;
    private const string SilentCollector = "198.51.100.22"; // an address in the world where nothing listens
    private readonly AgentAndWorld _net = new(Collector, SilentCollector);
    private readonly TestCertificates _ca;

    private string? _collectorCertificate;

    public DaemonForwardingTests() => _ca = new TestCertificates(_directory, "test");

    private string Policy(string group, bool ntpEntry, string rate = "10/second", string heartbeat = "") => $$"""
        version: 1
        log:
          prefix: "EGRESS-DENIED: "
          rate: {{rate}}
          group: {{group}}
          remote: { tls: "{{Collector}}:{{Port}}", ca: {{_ca.CaFile}}{{heartbeat}} }
        egress:
          allow:
            - { name: syslog-tls, to: [{{Collector}}], tcp: [{{Port}}] }
        """ + (ntpEntry ? $"\n    - {{ name: ntp-https, to: [{NtpServer}], tcp: [443] }}\n" : "\n");

    /// <summary>Debian's rsyslogd with gtls in the world, its certificate issued by the test's CA for the collector's address.</summary>
    private RsyslogCollector StartCollector()
    {
        var (certificate, key) = _ca.Issue("collector", Collector, null, server: true);
        _collectorCertificate = certificate;
        var collector = new RsyslogCollector(_net.World, _directory, Collector, Port, _ca.CaFile, certificate, key);
        collector.Start();
        return collector;
    }

    /// <summary>Sends denied NTP from the agent until the collector holds a denial to it that <paramref name="match"/> accepts.</summary>
    private static IReadOnlyDictionary<string, string>? NtpDenial(RsyslogCollector collector, string agentPath, Func<IReadOnlyDictionary<string, string>, bool> match)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            DenialTraffic.Udp(agentPath, NtpServer, 123, 1);
            var found = collector.WaitFor(r => r.Any(m => Ntp(m) is { } d && match(d)), TimeSpan.FromMilliseconds(500))
                .Select(Ntp).FirstOrDefault(d => d is not null && match(d));
            if (found is not null)
                return found;
        }
        return null;
    }

    private static IReadOnlyDictionary<string, string>? Ntp(SyslogMessage message) =>
        message.MessageId == "DENIED" && message.Data.TryGetValue("denial@32473", out var data) && data.GetValueOrDefault("dst") == NtpServer
            && data.GetValueOrDefault("dport") == "123" ? data : null;

    private static string All(IReadOnlyDictionary<string, string>? data) => data is null ? "(none)" : string.Join(" ", data.Select(p => $"{p.Key}={p.Value}"));

    [Fact]
    public void TheDaemonForwardsDenialsWithTheirReasonAndEntryAndFollowsAReload()
    {
        using var collector = StartCollector();
        string policy = DaemonTests.WritePolicy(Policy("100", ntpEntry: true));
        try
        {
            using var daemon = DaemonProcess.Start(policy, _net.Agent);
            daemon.WaitReady();
            Assert.True(daemon.WaitForLog("forward: denials of NFLOG group 100 go to 198.51.100.20:6514"), daemon.Log);

            // The address is an entry's (on tcp/443): the reason says so, and the entry and its line travel with it.
            var first = NtpDenial(collector, _net.Agent.Path, d => d.ContainsKey("reason"));
            Assert.True(first is not null, $"no NTP denial at the collector; daemon: {daemon.Log}; collector: {collector.Console}");
            Assert.True(first!.GetValueOrDefault("reason") == $"{NtpServer} is allowed, but not udp/123" && first.GetValueOrDefault("entry") == "ntp-https"
                && first.GetValueOrDefault("policy") == $"{policy}:10:7" && first.GetValueOrDefault("proto") == "udp" && first.GetValueOrDefault("uid") == "0"
                && first.GetValueOrDefault("prefix") == "EGRESS-DENIED: ", All(first));
            // Waited for, not read at once: the forwarder's log line and the test's reading of the daemon's stderr both
            // run beside the delivery, so under load the denial can reach the collector before the line reaches the test.
            Assert.True(daemon.WaitForLog($"connected to {Collector}:{Port}"), daemon.Log);

            // Another NFLOG group and no NTP entry: the pipeline moves to group 101; the reason is the new policy's.
            File.WriteAllText(policy, Policy("101", ntpEntry: false));
            daemon.Signal("HUP");
            Assert.True(daemon.WaitForLog("reloaded (SIGHUP)"), daemon.Log);
            Assert.True(daemon.WaitForLog("forward: denials of NFLOG group 101 go to"), daemon.Log);
            var second = NtpDenial(collector, _net.Agent.Path, d => d.GetValueOrDefault("reason") == $"no entry allows {NtpServer}");
            Assert.True(second is not null, $"no NTP denial with the reloaded reason; daemon: {daemon.Log}");
            Assert.False(second!.ContainsKey("entry"), All(second));
            Assert.DoesNotContain(collector.Received(), m => m.MessageId == "HEARTBEAT"); // none unless the policy asks

            // Only a heartbeat added: forwarding restarts with it, and the collector hears from the daemon at once.
            File.WriteAllText(policy, Policy("101", ntpEntry: false, heartbeat: ", heartbeat: 10s"));
            daemon.Signal("HUP");
            Assert.True(daemon.WaitForLog("a heartbeat every 10s)"), daemon.Log);
            var beat = collector.WaitFor(r => r.Any(m => m.MessageId == "HEARTBEAT"), TimeSpan.FromSeconds(60)).FirstOrDefault(m => m.MessageId == "HEARTBEAT");
            Assert.True(beat is not null, $"no heartbeat at the collector; daemon: {daemon.Log}");
            var vouched = beat!.Data["heartbeat@32473"];
            // It vouches for the table as the kernel holds it: there, the policy's, owned by the daemon, not in audit,
            // no window open, and the denied NTP of this reload's policy dropped and logged.
            Assert.True(vouched.GetValueOrDefault("every") == "10" && vouched.GetValueOrDefault("table") == "netlinkfence" && vouched.GetValueOrDefault("present") == "1"
                && vouched.GetValueOrDefault("matches") == "1" && vouched.GetValueOrDefault("owned") == "1" && vouched.GetValueOrDefault("audit") == "0"
                && vouched.GetValueOrDefault("windowsopen") == "0" && ulong.Parse(vouched.GetValueOrDefault("denied", "0")) >= 1
                && ulong.Parse(vouched.GetValueOrDefault("logged", "0")) >= 1
                && vouched.GetValueOrDefault("build") == OtherBuild.ThisBuild() && vouched.GetValueOrDefault("appliedby") == OtherBuild.ThisBuild(), All(vouched));

            // status says how forwarding is doing, in words and in JSON.
            var status = CliRunner.Run($"status --policy {policy} --netns {_net.Agent.Name}");
            Assert.True(status.ExitCode == 0, status.Stderr);
            Assert.Matches(@"forwarding: denials of NFLOG group 101 to 198\.51\.100\.20:6514: connected, \d+ queued, [1-9]\d* sent, 0 dropped \(queue full\), 0 lost; a heartbeat every 10s; collector certificate valid until 20\d\d-\d\d-\d\dT", status.Stdout);
            var json = CliRunner.Run($"status --policy {policy} --netns {_net.Agent.Name} --output json");
            using var document = System.Text.Json.JsonDocument.Parse(json.Stdout);
            var forwarding = document.RootElement.GetProperty("daemon").GetProperty("forwarding");
            Assert.True(forwarding.GetProperty("connected").GetBoolean() && forwarding.GetProperty("group").GetInt32() == 101
                && forwarding.GetProperty("collector").GetString() == "198.51.100.20:6514" && forwarding.GetProperty("heartbeat_seconds").GetDouble() == 10
                && forwarding.GetProperty("sent").GetUInt64() >= 1 && forwarding.GetProperty("lost_unbound").GetUInt64() == 0
                && forwarding.GetProperty("collector_certificate_expires").GetDateTimeOffset() > DateTimeOffset.UtcNow, json.Stdout);
        }
        finally
        {
            File.Delete(policy);
        }
    }

    /// <summary>
    /// Each change to an update window that the daemon records (an open with the uid that asked, a close, the kernel's
    /// expiry) also goes to the collector, as a <c>WINDOW</c> message: a fleet sees when its update windows were open
    /// where it sees the denials.
    /// </summary>
    [Fact]
    public void The_daemon_ships_each_window_change_to_the_collector()
    {
        using var collector = StartCollector();
        string policy = DaemonTests.WritePolicy($$"""
            version: 1
            log:
              remote: { tls: "{{Collector}}:{{Port}}", ca: {{_ca.CaFile}} }
            egress:
              allow:
                - { name: syslog-tls, to: [{{Collector}}], tcp: [{{Port}}] }
                - { name: mirror, to: [{{NtpServer}}], tcp: [80], window: 30m }
            """);
        DaemonProcess? daemon = null;
        try
        {
            daemon = DaemonProcess.Start(policy, _net.Agent);
            daemon.WaitReady();
            foreach (string command in new[] { "open mirror --for 3s", "open mirror --for 10m", "restart", "close mirror" })
            {
                if (command == "open mirror --for 10m") // after the first one's end, which the kernel enforces
                    Assert.True(collector.WaitFor(r => r.Any(m => Window(m)?.GetValueOrDefault("verb") == "expire"), TimeSpan.FromSeconds(60)).Count > 0, daemon.Log);
                if (command == "restart") // the next daemon's start opens the window again: shipped too, once forwarding runs
                {
                    daemon.Signal("TERM");
                    Assert.Equal(0, daemon.WaitExit());
                    daemon.Dispose();
                    daemon = DaemonProcess.Start(policy, _net.Agent);
                    daemon.WaitReady();
                    continue;
                }
                var result = CliRunner.Run($"{command} --policy {policy} --netns {_net.Agent.Name}");
                Assert.True(result.ExitCode == 0, $"{command}: {result.Stderr}{daemon.Log}");
            }
            var windows = collector.WaitFor(r => r.Count(m => Window(m) is not null) >= 5, TimeSpan.FromSeconds(60)).Where(m => Window(m) is not null).ToList();
            Assert.True(windows.Select(m => Window(m)!["verb"]).SequenceEqual(["open", "expire", "open", "open", "close"]),
                string.Join("\n", windows.Select(m => m.Text)) + daemon.Log + collector.Console);
            Assert.NotEqual(Window(windows[2])!["run"], Window(windows[3])!["run"]); // the reopen is the second daemon's
            Assert.All(windows, m => Assert.True(Window(m)!["entry"] == "mirror" && Window(m)!["uid"] == "0" && Window(m)!["table"] == "netlinkfence" && m.Priority % 8 == 5, All(Window(m))));
            Assert.StartsWith("open mirror (uid 0): for 3s, open 3s from now", windows[0].Text);
            Assert.Matches(@"^expire mirror \(uid 0\): its time ran out at \d\d:\d\d:\d\dZ and the kernel closed it$", windows[1].Text);
            Assert.Matches(@"^close mirror \(uid 0\): closed now, (\d+m)?\d*s? before its end at", windows[4].Text);
        }
        finally
        {
            daemon?.Dispose();
            File.Delete(policy);
        }
    }

    private static IReadOnlyDictionary<string, string>? Window(SyslogMessage message) =>
        message.MessageId == "WINDOW" && message.Data.TryGetValue("window@32473", out var data) ? data : null;

    /// <summary>
    /// <c>tls:</c> with two collectors, the first silent: the daemon forwards to the second at once, and <c>status</c>
    /// says that denials go to a fallback, in words and in JSON.
    /// </summary>
    [Fact]
    public void With_the_first_collector_silent_the_daemon_forwards_to_the_fallback_and_status_says_so()
    {
        using var collector = StartCollector();
        string policy = DaemonTests.WritePolicy($$"""
            version: 1
            log:
              prefix: "EGRESS-DENIED: "
              rate: 10/second
              remote: { tls: ["{{SilentCollector}}:{{Port}}", "{{Collector}}:{{Port}}"], ca: {{_ca.CaFile}}, failback: 2m }
            egress:
              allow:
                - { name: syslog-tls, to: [{{SilentCollector}}, {{Collector}}], tcp: [{{Port}}] }
            """);
        try
        {
            string file = Path.Combine(_directory, "netlinkfence.prom");
            using var daemon = DaemonProcess.Start(policy, _net.Agent, $"--prometheus {file} --prometheus-every 1s");
            daemon.WaitReady();
            Assert.True(daemon.WaitForLog($"forward: denials of NFLOG group 100 go to {SilentCollector}:{Port}, then {Collector}:{Port} while it cannot be reached"), daemon.Log);
            var denial = NtpDenial(collector, _net.Agent.Path, _ => true);
            Assert.True(denial is not null, $"no NTP denial at the fallback; daemon: {daemon.Log}; collector: {collector.Console}");
            Assert.True(daemon.WaitForLog($"connected to {Collector}:{Port} (certificate verified against {_ca.CaFile}), a fallback while {SilentCollector}:{Port} cannot be reached"), daemon.Log);

            var status = CliRunner.Run($"status --policy {policy} --netns {_net.Agent.Name}");
            Assert.True(status.ExitCode == 0, status.Stderr);
            Assert.Contains($"forwarding: denials of NFLOG group 100 to {SilentCollector}:{Port} (fallback {Collector}:{Port}; the first tried again every 2m while on one): connected to the fallback {Collector}:{Port} ({SilentCollector}:{Port} cannot be reached), ", status.Stdout);
            var json = CliRunner.Run($"status --policy {policy} --netns {_net.Agent.Name} --output json");
            using var document = System.Text.Json.JsonDocument.Parse(json.Stdout);
            var forwarding = document.RootElement.GetProperty("daemon").GetProperty("forwarding");
            Assert.True(forwarding.GetProperty("connected").GetBoolean() && forwarding.GetProperty("collector").GetString() == $"{SilentCollector}:{Port}"
                && forwarding.GetProperty("connected_to").GetString() == $"{Collector}:{Port}" && forwarding.GetProperty("failback_seconds").GetDouble() == 120
                && forwarding.GetProperty("fallbacks").EnumerateArray().Select(f => f.GetString()).SequenceEqual([$"{Collector}:{Port}"]), json.Stdout);
            // The metric to alert on (labelled with the first collector, the one that cannot be reached).
            Assert.True(DaemonProcess.WaitUntil(() => File.Exists(file)
                && PrometheusParser.Parse(file).Value("netlinkfence_forward_on_fallback", ("collector", $"{SilentCollector}:{Port}")) == 1, 30),
                (File.Exists(file) ? File.ReadAllText(file) : "(no file)") + daemon.Log);
        }
        finally
        {
            File.Delete(policy);
        }
    }

    /// <summary>
    /// A flood over log.rate: the collector gets the denials the kernel logged and, within the daemon's counting
    /// interval, an UNLOGGED report of the rest, counted by the denied chains' counters; also when a reload replaces
    /// the table (and its counters) before the interval ends.
    /// </summary>
    [Fact]
    public void Denials_over_the_log_rate_are_reported_to_the_collector_as_unlogged()
    {
        using var collector = StartCollector();
        string policy = DaemonTests.WritePolicy(Policy("100", ntpEntry: false, rate: "1/second"));
        try
        {
            using var daemon = DaemonProcess.Start(policy, _net.Agent);
            daemon.WaitReady();
            Assert.True(daemon.WaitForLog("forward: denials of NFLOG group 100 go to 198.51.100.20:6514"), daemon.Log);
            long sent = DenialTraffic.UdpAtRate(_net.Agent.Path, NtpServer, 123, 200, TimeSpan.FromSeconds(3));

            // The flood may straddle two of the daemon's intervals: one report each.
            ulong unlogged = SyslogMessage.UnloggedCount(collector.WaitFor(r => SyslogMessage.UnloggedCount(r) >= (ulong)(sent / 2), TimeSpan.FromSeconds(90)));
            Assert.True(unlogged > 0, $"no UNLOGGED report; daemon: {daemon.Log}; collector: {collector.Console}");
            int logged = collector.Received().Count(m => Ntp(m) is not null);
            // 1/second, burst 5: a few of the datagrams were logged and forwarded, the rest are in the report.
            Assert.True(logged >= 1 && unlogged >= (ulong)(sent / 2) && unlogged <= (ulong)sent + 50 /* the link's own IPv6 chatter is denied too */, $"sent {sent}, forwarded {logged}, reported unlogged {unlogged}");
            Assert.True(daemon.WaitForLog("denied packet(s) came over log.rate since"), daemon.Log);

            // A second flood, and at once a reload that replaces the table (another rate): the new table's counters
            // start from zero, so what the old ones held is reported before the commit, not lost with them.
            Thread.Sleep(TimeSpan.FromSeconds(1)); // the first flood's last report, if any, reaches the collector
            ulong before = SyslogMessage.UnloggedCount(collector.Received());
            long sentAgain = DenialTraffic.UdpAtRate(_net.Agent.Path, NtpServer, 123, 200, TimeSpan.FromSeconds(2));
            File.WriteAllText(policy, Policy("100", ntpEntry: false, rate: "2/second"));
            daemon.Signal("HUP");
            Assert.True(daemon.WaitForLog("reloaded (SIGHUP): atomic replace of the table"), daemon.Log);
            ulong after = SyslogMessage.UnloggedCount(collector.WaitFor(r => SyslogMessage.UnloggedCount(r) >= before + (ulong)(sentAgain / 2), TimeSpan.FromSeconds(60)));
            Assert.True(after - before >= (ulong)(sentAgain / 2), $"sent {sentAgain} before the reload, reported unlogged {after - before}; daemon: {daemon.Log}");
        }
        finally
        {
            File.Delete(policy);
        }
    }

    /// <summary>
    /// With <c>--prometheus</c>, the metrics file says whether denials reach the collector (parsed by the Prometheus
    /// project's own parser): connected and sending while rsyslogd runs, nothing dropped or lost; once it stops, not
    /// connected, and the denials that come meanwhile wait in the queue.
    /// </summary>
    [Fact]
    public void The_metrics_file_says_whether_denials_reach_the_collector()
    {
        using var collector = StartCollector();
        string policy = DaemonTests.WritePolicy(Policy("100", ntpEntry: false));
        string file = Path.Combine(_directory, "netlinkfence.prom");
        var endpoint = ("collector", $"{Collector}:{Port}");
        double Sample(string name, params (string, string)[] labels) =>
            File.Exists(file) ? PrometheusParser.Parse(file).Value(name, [endpoint, .. labels]) : double.NaN;
        try
        {
            using var daemon = DaemonProcess.Start(policy, _net.Agent, $"--prometheus {file} --prometheus-every 1s");
            daemon.WaitReady();
            Assert.True(NtpDenial(collector, _net.Agent.Path, _ => true) is not null, $"no NTP denial at the collector; daemon: {daemon.Log}");
            Assert.True(DaemonProcess.WaitUntil(() => Sample("netlinkfence_forward_connected") == 1 && Sample("netlinkfence_forward_sent_messages_total") >= 1, 30),
                (File.Exists(file) ? File.ReadAllText(file) : "(no file)") + daemon.Log);
            var samples = PrometheusParser.Parse(file);
            Assert.Equal(0, samples.Value("netlinkfence_forward_dropped_total", endpoint));
            foreach (string where in new[] { "kernel", "reader", "unbound" })
                Assert.Equal(0, samples.Value("netlinkfence_forward_lost_total", endpoint, ("where", where)));
            Assert.Equal(0, samples.Value("netlinkfence_forward_reader_restarts_total", endpoint));
            Assert.Equal(0, samples.Value("netlinkfence_forward_on_fallback", endpoint));
            Assert.Equal(1, samples.Value("netlinkfence_table_present", ("table", "netlinkfence"))); // beside the table's own
            // When the collector's certificate, as verified, stops being valid (the test CA issues it for a day): alert well before.
            using (var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(_collectorCertificate!)))
                Assert.Equal(new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero).ToUnixTimeSeconds(),
                    samples.Value("netlinkfence_forward_certificate_expiry_timestamp_seconds", endpoint, ("certificate", "collector")));
            Assert.True(daemon.WaitForLog("forward: the collector's certificate expires at "), daemon.Log); // within 14 days: said at the connection

            collector.Stop();
            Assert.True(DaemonProcess.WaitUntil(() =>
            {
                DenialTraffic.Udp(_net.Agent.Path, NtpServer, 123, 1); // denials go on; with the collector gone they wait
                return Sample("netlinkfence_forward_connected") == 0 && Sample("netlinkfence_forward_queued_messages") >= 1;
            }, 90), (File.Exists(file) ? File.ReadAllText(file) : "(no file)") + daemon.Log);
        }
        finally
        {
            File.Delete(policy);
        }
    }

    /// <summary>An unreadable CA file: the daemon says why it does not forward, and enforces the policy anyway.</summary>
    [Fact]
    public void AnUnreadableCaFileIsLoggedAndThePolicyStaysEnforced()
    {
        string missing = Path.Combine(_directory, "no-such-ca.pem");
        string policy = DaemonTests.WritePolicy(Policy("100", ntpEntry: true).Replace(_ca.CaFile, missing));
        try
        {
            using var daemon = DaemonProcess.Start(policy, _net.Agent);
            daemon.WaitReady();
            Assert.True(daemon.WaitForLog($"forward: denials are not forwarded: cannot read the CA file {missing}"), daemon.Log);
            Assert.Contains("ENOENT", daemon.Log);
            Assert.Contains(NtpServer, _net.Agent.Nft("list ruleset")); // the table the policy compiles to is in place
            Assert.False(daemon.HasExited);
        }
        finally
        {
            File.Delete(policy);
        }
    }

    public void Dispose()
    {
        _ca.Dispose();
        _net.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
