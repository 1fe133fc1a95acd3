using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using NetlinkFence.Cli;
using NetlinkFence.Interop;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Live;

/// <summary>
/// <c>stats --prometheus FILE</c> for node_exporter's textfile collector, read back with the Prometheus project's own
/// Python parser (Debian's python3-prometheus-client) as the independent oracle: the kernel's counters, an open window,
/// drift said as <c>netlinkfence_table_matches_policy 0</c>, a removed table as <c>netlinkfence_table_present 0</c>, the
/// file replaced whole.
/// </summary>
public sealed class StatsPrometheusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nlf-prometheus-").FullName;
    private readonly string _policy;

    public StatsPrometheusTests()
    {
        _policy = Path.Combine(_dir, "policy.yaml");
        File.WriteAllText(_policy, LivePolicyTests.Yaml);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Drift_in_a_table_named_with_table_points_at_show_not_at_a_verify_of_another_table()
    {
        using var ns = TestNamespace.Create();
        string other = Path.Combine(_dir, "other.yaml");
        File.WriteAllText(other, "table: other\n" + LivePolicyTests.Yaml);
        Assert.Equal(0, CliRunner.Run($"apply {other} --netns {ns.Name}").ExitCode);
        var run = CliRunner.Run($"stats --prometheus - --policy {_policy} --table other --netns {ns.Name}");
        Assert.True(run.ExitCode == 0, run.Stderr);

        ns.Nft("add rule inet other output tcp dport 22 accept");
        run = CliRunner.Run($"stats --prometheus - --policy {_policy} --table other --netns {ns.Name}");
        Assert.Equal(1, run.ExitCode);
        // verify has no --table (it compares a policy with the table the policy names): the hint must be a command that works.
        Assert.Contains($"table inet other in namespace {ns.Name} is not the policy's ({_policy}); wrote netlinkfence_table_matches_policy 0 to standard output; "
            + $"'netlinkfence show --netns {ns.Name} --table other' shows what it holds", run.Stderr);
        Assert.Equal(0, CliRunner.Run($"show --netns {ns.Name} --table other").ExitCode);
    }

    [Fact]
    public void The_counters_an_open_window_and_a_removed_table_read_as_the_prometheus_parser_reads_them()
    {
        using var net = new AgentAndWorld(LivePolicyTests.Mirror, LivePolicyTests.Control);
        net.ListenTcp(LivePolicyTests.Control, 443);
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}").ExitCode);
        for (int i = 0; i < 2; i++)
            Assert.True(net.TcpReachable(LivePolicyTests.Control, 443, AgentAndWorld.ExpectedThroughMs));
        Assert.False(net.TcpReachable(LivePolicyTests.Mirror, 80, 700));
        Assert.Equal(0, CliRunner.Run($"open updates --for 50s --policy {_policy} --netns {net.Agent.Name}").ExitCode);
        string metrics = Path.Combine(_dir, "netlinkfence.prom");
        File.WriteAllText(metrics, "stale\n");

        var run = CliRunner.Run($"stats --prometheus {metrics} --policy {_policy} --netns {net.Agent.Name}");
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Equal("", run.Stdout); // quiet for cron: the file is the output
        var samples = PrometheusParser.Parse(metrics);
        Assert.Equal(1, samples.Value("netlinkfence_table_present", ("table", "netlinkfence")));
        Assert.Equal(0, samples.Value("netlinkfence_audit_active", ("table", "netlinkfence")));
        Assert.Equal(1, samples.Value("netlinkfence_table_matches_policy", ("table", "netlinkfence")));
        Assert.True(samples.Value("netlinkfence_allow_packets_total", ("direction", "egress"), ("entry", "control")) >= 2);
        Assert.True(samples.Value("netlinkfence_allow_bytes_total", ("entry", "control")) >= 120);
        Assert.Equal(0, samples.Value("netlinkfence_allow_packets_total", ("entry", "updates")));
        Assert.True(samples.Value("netlinkfence_denied_packets_total", ("chain", "egress_denied")) >= 1);
        Assert.Equal(1, samples.Value("netlinkfence_window_open", ("entry", "updates")));
        Assert.Equal(1, samples.Value("netlinkfence_allow_elements", ("direction", "egress"), ("entry", "control")));
        Assert.Equal(1, samples.Value("netlinkfence_allow_elements", ("entry", "updates"))); // open: its one element is in
        double remaining = samples.Value("netlinkfence_window_remaining_seconds", ("entry", "updates"));
        Assert.InRange(remaining, 1, 50);
        Assert.Empty(Directory.GetFiles(_dir, ".*")); // the hidden file it wrote first was renamed over the metrics

        // Drift (a rule the policy does not have): written as such (exit 1), with no entry counters to trust.
        net.Agent.Nft("add rule inet netlinkfence output tcp dport 22 accept");
        run = CliRunner.Run($"stats --prometheus {metrics} --policy {_policy} --netns {net.Agent.Name}");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"table inet netlinkfence in namespace {net.Agent.Name} is not the policy's ({_policy}); wrote netlinkfence_table_matches_policy 0 to {metrics}; "
            + $"'netlinkfence verify {_policy} --netns {net.Agent.Name}' says what differs", run.Stderr);
        samples = PrometheusParser.Parse(metrics);
        Assert.Equal(1, samples.Value("netlinkfence_table_present", ("table", "netlinkfence")));
        Assert.Equal(0, samples.Value("netlinkfence_table_matches_policy", ("table", "netlinkfence")));
        Assert.True(samples.Value("netlinkfence_denied_packets_total", ("chain", "egress_denied")) >= 1);
        Assert.DoesNotContain(samples, s => s.Name is "netlinkfence_allow_packets_total" or "netlinkfence_allow_elements");

        // No table: the metrics say so (exit 1 all the same), instead of a file left as it was.
        Assert.Equal(0, CliRunner.Run($"remove --policy {_policy} --netns {net.Agent.Name}").ExitCode);
        run = CliRunner.Run($"stats --prometheus {metrics} --policy {_policy} --netns {net.Agent.Name}");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"there is no table inet netlinkfence in namespace {net.Agent.Name}: netlinkfence filters nothing there; wrote netlinkfence_table_present 0 to {metrics}", run.Stderr);
        samples = PrometheusParser.Parse(metrics);
        Assert.Equal(0, samples.Value("netlinkfence_table_present", ("table", "netlinkfence")));
        Assert.DoesNotContain(samples, s => s.Name == "netlinkfence_allow_packets_total");

        run = CliRunner.Run($"stats --prometheus - --output json --policy {_policy} --netns {net.Agent.Name}");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--prometheus and --output json", run.Stdout + run.Stderr);
    }

    [Fact]
    public void Denials_the_log_rate_kept_out_of_every_log_are_counted_apart()
    {
        using var net = new AgentAndWorld(LivePolicyTests.Mirror, LivePolicyTests.Control);
        File.WriteAllText(_policy, LivePolicyTests.Yaml + "\nlog: { prefix: \"EGRESS-DENIED: \", rate: 1/second }\n");
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}").ExitCode);
        // Thirty datagrams to a closed window's address in a burst: each is denied (EPERM), the limit (1/second, burst 5)
        // lets a few into the log. Even a loop stalled for seconds by a loaded machine logs far fewer than thirty.
        var socket = NetworkNamespace.Run(net.Agent.Path, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        using (socket)
        {
            for (int i = 0; i < 30; i++)
                Assert.Throws<SocketException>(() => socket.SendTo("x"u8, new IPEndPoint(IPAddress.Parse(LivePolicyTests.Mirror), 80)));
        }
        Assert.Contains("limit rate 1/second counter packets", net.Agent.Nft("list chain inet netlinkfence egress_denied")); // the oracle: nft's view of the rule

        var text = CliRunner.Run($"stats --policy {_policy} --netns {net.Agent.Name}");
        Assert.True(text.ExitCode == 0, text.Stderr);
        var line = Regex.Match(text.Stdout, @"(?m)^  denied egress_denied +(\d+) packets +\d+ bytes +(\d+) logged, (\d+) over log\.rate \(not in any log\)$");
        Assert.True(line.Success, text.Stdout);
        ulong packets = ulong.Parse(line.Groups[1].Value), logged = ulong.Parse(line.Groups[2].Value), over = ulong.Parse(line.Groups[3].Value);
        Assert.True(packets >= 30 && logged >= 1 && over >= 10 && logged + over == packets, text.Stdout);
        Assert.Matches(@"(?m)^  denied ingress_denied +\d+ packets? +\d+ bytes? +\d+ logged", text.Stdout);

        using (var json = JsonDocument.Parse(CliRunner.Run($"stats --output json --policy {_policy} --netns {net.Agent.Name}").Stdout))
        {
            var denied = json.RootElement.GetProperty("denied").EnumerateArray().Single(e => e.GetProperty("chain").GetString() == "egress_denied");
            Assert.True(denied.GetProperty("logged").GetUInt64() < denied.GetProperty("packets").GetUInt64());
        }
        string metrics = Path.Combine(_dir, "logged.prom");
        Assert.Equal(0, CliRunner.Run($"stats --prometheus {metrics} --policy {_policy} --netns {net.Agent.Name}").ExitCode);
        var samples = PrometheusParser.Parse(metrics);
        double loggedSample = samples.Value("netlinkfence_denied_logged_packets_total", ("chain", "egress_denied"));
        Assert.InRange(loggedSample, 1, samples.Value("netlinkfence_denied_packets_total", ("chain", "egress_denied")) - 10);

        // A table applied before the log rule counted (its structure is not this version's policy: drift, which
        // --prometheus still writes): how many were logged is not known, and no sample pretends to know it.
        net.Agent.Nft("-f -", """
            flush chain inet netlinkfence egress_denied
            add rule inet netlinkfence egress_denied limit rate 1/second log prefix "EGRESS-DENIED: " group 100
            add rule inet netlinkfence egress_denied counter drop

            """);
        Assert.Equal(1, CliRunner.Run($"stats --prometheus {metrics} --policy {_policy} --netns {net.Agent.Name}").ExitCode);
        samples = PrometheusParser.Parse(metrics);
        Assert.Equal(0, samples.Value("netlinkfence_table_matches_policy", ("table", "netlinkfence")));
        Assert.Contains(samples, s => s.Name == "netlinkfence_denied_packets_total" && s.Labels["chain"] == "egress_denied");
        Assert.DoesNotContain(samples, s => s.Name == "netlinkfence_denied_logged_packets_total" && s.Labels["chain"] == "egress_denied");
    }

    [Fact]
    public void Label_values_are_escaped_as_the_format_wants()
    {
        string text = PrometheusMetrics.Render(TableMetrics.Missing("a\"b\\c\nd"));
        string file = Path.Combine(_dir, "escaped.prom");
        File.WriteAllText(file, text);
        Assert.Equal(0, PrometheusParser.Parse(file).Value("netlinkfence_table_present", ("table", "a\"b\\c\nd")));
    }
}
