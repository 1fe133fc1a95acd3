using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// <c>run --prometheus FILE</c>: the daemon writes what <c>stats --prometheus</c> writes, at start, every interval and
/// right after each change it makes, readable by node_exporter whatever the daemon's umask (the unit's is 0077), read
/// back with the Prometheus project's parser; a write that fails is logged once, the daemon runs on, and the next write that lands says so; a link planted
/// under the temporary file's name is never written through.
/// </summary>
public sealed class DaemonMetricsTests
{
    internal const string Policy = """
        version: 1
        egress:
          allow:
            - name: control
              to: [203.0.113.50]
              tcp: [443]
            - name: mirror
              to: [203.0.113.60]
              tcp: [80]
              window: 30m
        """;

    [Fact]
    public void The_daemon_keeps_the_metrics_file_current_and_survives_a_write_that_fails()
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(Policy);
        string directory = TestScratch.PathFor("nlf-metrics", "");
        Directory.CreateDirectory(directory);
        string file = Path.Combine(directory, "netlinkfence.prom");
        using var daemon = DaemonProcess.StartWrapped(
            $"umask 077; exec \"$@\" --netns {ns.Name} --prometheus {file} --prometheus-every 1s", policy);
        daemon.WaitReady();

        Assert.True(DaemonProcess.WaitUntil(() => File.Exists(file), 30), daemon.Log);
        var samples = PrometheusParser.Parse(file);
        Assert.Equal(1, samples.Value("netlinkfence_table_present", ("table", "netlinkfence")));
        Assert.Equal(1, samples.Value("netlinkfence_table_matches_policy", ("table", "netlinkfence")));
        Assert.Equal(1, samples.Value("netlinkfence_table_owned", ("table", "netlinkfence"))); // the daemon owns it
        Assert.Equal(0, samples.Value("netlinkfence_window_open", ("entry", "mirror")));
        Assert.Equal(0, samples.Value("netlinkfence_allow_packets_total", ("entry", "control")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(file));

        var open = CliRunner.Run($"open mirror --for 10m --policy {policy} --netns {ns.Name}");
        Assert.True(open.ExitCode == 0, open.Stderr);
        Assert.True(DaemonProcess.WaitUntil(() => PrometheusParser.Parse(file).Value("netlinkfence_window_open", ("entry", "mirror")) == 1, 30),
            "the open window must show in the file within a few intervals\n" + daemon.Log);
        Assert.InRange(PrometheusParser.Parse(file).Value("netlinkfence_window_remaining_seconds", ("entry", "mirror")), 500, 600);

        // The daemon writes the file every second (a temporary file, then a rename): a write between the deletion of the
        // files and of the directory makes it "not empty", so the deletion is tried again.
        Retried(() => Directory.Delete(directory, recursive: true));
        Assert.True(daemon.WaitForLog($"netlinkfence[run]: metrics: cannot write {file}: "), daemon.Log);
        Thread.Sleep(3500); // a few more writes (every 1s) fail the same way meanwhile: they must not each be logged
        Directory.CreateDirectory(directory);
        Assert.True(daemon.WaitForLog($"netlinkfence[run]: metrics: {file} written again"), daemon.Log);
        Assert.True(File.Exists(file));
        Assert.Single(daemon.Log.Split('\n'), l => l.Contains("metrics: cannot write", StringComparison.Ordinal)); // once, not every second
        Assert.False(daemon.HasExited);

        // The directory may be another user's (node_exporter's) and the temporary name is predictable: a link planted
        // under it is never written through (root would overwrite the link's target); the next write unlinks it.
        string victim = TestScratch.PathFor("nlf-victim", ".txt");
        File.WriteAllText(victim, "not the daemon's\n");
        Retried(() => File.CreateSymbolicLink(Path.Combine(directory, $".netlinkfence.prom.{daemon.Pid}.tmp"), victim)); // "exists" while a write is under way
        for (int write = 0; write < 2; write++) // the second began after the link was there
        {
            var before = File.GetLastWriteTimeUtc(file);
            Assert.True(DaemonProcess.WaitUntil(() => File.GetLastWriteTimeUtc(file) != before, 30), daemon.Log);
        }
        Assert.Equal("not the daemon's\n", File.ReadAllText(victim));
        Assert.Null(File.ResolveLinkTarget(file, returnFinalTarget: false));
        Assert.Equal(1, PrometheusParser.Parse(file).Value("netlinkfence_table_present", ("table", "netlinkfence")));

        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitExit());
        Assert.Empty(Directory.GetFiles(directory, ".*")); // no temporary file left behind
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void A_change_the_daemon_makes_is_in_the_file_at_once_not_at_the_next_interval()
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(Policy);
        string file = TestScratch.PathFor("nlf-metrics", ".prom");
        using var daemon = DaemonProcess.Start(policy, ns, $"--prometheus {file} --prometheus-every 1h");
        daemon.WaitReady();
        Assert.True(DaemonProcess.WaitUntil(() => File.Exists(file), 30), daemon.Log);
        Assert.Equal(0, WindowOpen());

        // An alert on an open window must not wait for the interval (an hour here): each change is written when made.
        var open = CliRunner.Run($"open mirror --for 10m --policy {policy} --netns {ns.Name}");
        Assert.True(open.ExitCode == 0, open.Stderr);
        Assert.True(DaemonProcess.WaitUntil(() => WindowOpen() == 1, 30), "the open window must be in the file at once\n" + daemon.Log);

        var close = CliRunner.Run($"close mirror --policy {policy} --netns {ns.Name}");
        Assert.True(close.ExitCode == 0, close.Stderr);
        Assert.True(DaemonProcess.WaitUntil(() => WindowOpen() == 0, 30), "the closed window must be in the file at once\n" + daemon.Log);

        File.WriteAllText(policy, Policy + """

                - name: extra
                  to: [203.0.113.70]
                  tcp: [443]
            """);
        daemon.Signal("HUP");
        Assert.True(DaemonProcess.WaitUntil(() => PrometheusParser.Parse(file).Any(s => s.Labels.GetValueOrDefault("entry") == "extra"), 30),
            "the reloaded policy's new entry must be in the file at once\n" + daemon.Log);
        Assert.Equal(1, PrometheusParser.Parse(file).Value("netlinkfence_table_matches_policy", ("table", "netlinkfence")));

        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitExit());
        File.Delete(file);

        double WindowOpen() => PrometheusParser.Parse(file).Value("netlinkfence_window_open", ("entry", "mirror"));
    }

    [Theory]
    [InlineData("--prometheus-every 0s", "--prometheus-every '0s' is not a duration from 1s to 1h")]
    [InlineData("--prometheus-every 2h", "--prometheus-every '2h' is not a duration from 1s to 1h")]
    [InlineData("--prometheus -", "'-' (standard output) is for 'stats --prometheus -'")]
    [InlineData("--prometheus /nonexistent-nlf/netlinkfence.prom", "the directory /nonexistent-nlf does not exist")]
    public void Bad_metrics_options_are_exit_2_before_anything_is_applied(string options, string message)
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(Policy);
        var run = CliRunner.Run($"run {policy} --netns {ns.Name} {options}");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Stderr);
        Assert.DoesNotContain("netlinkfence", ns.Nft("list ruleset"));
    }

    /// <summary>Runs <paramref name="action"/> until it does not race the daemon's write of the metrics file (an IOException), 50 tries at most.</summary>
    private static void Retried(Action action)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                action();
                return;
            }
            catch (IOException) when (attempt < 50)
            {
                Thread.Sleep(20);
            }
        }
    }
}
