using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Live;

/// <summary>
/// Issue 11, "Update windows", as a user runs them: <c>open</c>, <c>close</c>, <c>status</c> and <c>stats</c> on the
/// kernel directly, with real traffic, and the bad inputs that are exit 2 with the table unchanged.
/// </summary>
public sealed class WindowCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nlf-window-cli-").FullName;
    private readonly string _policy;

    public WindowCliTests()
    {
        _policy = Path.Combine(_dir, "policy.yaml");
        File.WriteAllText(_policy, LivePolicyTests.Yaml);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static AgentAndWorld World()
    {
        var net = new AgentAndWorld(LivePolicyTests.Mirror, LivePolicyTests.Control);
        net.ListenTcp(LivePolicyTests.Mirror, 80);
        net.ListenTcp(LivePolicyTests.Control, 443);
        return net;
    }

    private (int ExitCode, string Stdout, string Stderr) Cli(string verb, AgentAndWorld net) =>
        CliRunner.Run($"{verb} --policy {_policy} --netns {net.Agent.Name}");

    /// <summary>The window log lines of this test's namespace.</summary>
    private static string WindowLog(AgentAndWorld net) => TestSupport.WindowLog.Of(net.Agent.Name);

    [Fact]
    public void The_kernel_closes_a_window_on_time_with_no_process_of_ours_running()
    {
        using var net = World();
        Assert.True(net.TcpReachable(LivePolicyTests.Mirror, 80, AgentAndWorld.ExpectedThroughMs));
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}").ExitCode);
        Assert.False(net.TcpReachable(LivePolicyTests.Mirror, 80, 700), "closed after apply");

        // 10 s: the connection below must land inside the window however slowly the CLI exits on a loaded runner.
        var opened = Cli("open updates --for 10s", net);
        var openedAt = Stopwatch.StartNew();
        Assert.True(opened.ExitCode == 0, opened.Stdout + opened.Stderr);
        Assert.Matches(@"^updates: open for (10s|9s), until \d\d:\d\d:\d\dZ \(the kernel closes it then\)$", opened.Stdout.Trim());
        Assert.Contains("uid 0", opened.Stderr);
        // The CLI has exited: from here on nothing of ours runs; only the kernel's element timeout can close it.
        Assert.True(net.TcpReachable(LivePolicyTests.Mirror, 80, AgentAndWorld.ExpectedThroughMs), "open for 10s");

        var margin = TimeSpan.FromSeconds(10) + TimeSpan.FromSeconds(3) - openedAt.Elapsed;
        if (margin > TimeSpan.Zero)
            Thread.Sleep(margin);
        Assert.False(net.TcpReachable(LivePolicyTests.Mirror, 80, 700), "the kernel must have closed the window after 10 s");
        Assert.Contains("updates: closed", Cli("status", net).Stdout);
        Assert.True(net.TcpReachable(LivePolicyTests.Control, 443, AgentAndWorld.ExpectedThroughMs));

        Assert.Matches(@"uid=0 open updates table=inet netlinkfence namespace \S+: for 10s", WindowLog(net));
    }

    [Fact]
    public void Close_closes_at_once_and_a_shorter_open_does_not_shorten()
    {
        using var net = World();
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}").ExitCode);
        Assert.Equal(0, Cli("open updates", net).ExitCode); // default: the whole window (1m)
        var shorter = Cli("open updates --for 2s", net);
        Assert.True(shorter.ExitCode == 0, shorter.Stderr);
        Assert.Matches(@"^updates: stays open for (1m|\d{1,2}s), longer than --for 2s: opening never shortens a window \('"
            + Regex.Escape($"netlinkfence close updates --policy {_policy} --netns {net.Agent.Name}") + @"' first to shorten it\)$", shorter.Stdout.Trim());
        var status = Cli("status --output json", net);
        Assert.True(status.ExitCode == 0, status.Stderr);
        using (var json = JsonDocument.Parse(status.Stdout))
        {
            var window = Assert.Single(json.RootElement.GetProperty("windows").EnumerateArray());
            Assert.Equal("updates", window.GetProperty("entry").GetString());
            Assert.True(window.GetProperty("open").GetBoolean());
            Assert.InRange(window.GetProperty("remaining_seconds").GetDouble(), 2.001, 60);
            Assert.Equal(60, window.GetProperty("window_seconds").GetDouble());
        }
        Thread.Sleep(TimeSpan.FromSeconds(4));
        Assert.True(net.TcpReachable(LivePolicyTests.Mirror, 80, AgentAndWorld.ExpectedThroughMs), "open --for 2s shortened a 1m window");
        // probe's "why" names the window (the compiled policy holds it closed; "no entry allows" contradicted ALLOWED).
        var probe = Cli($"probe tcp:{LivePolicyTests.Mirror}:80 --timeout-ms 3000", net);
        Assert.True(probe.ExitCode == 0, probe.Stderr);
        Assert.Contains("ALLOWED", probe.Stdout);
        Assert.Contains("window entry 'updates'", probe.Stdout);

        var closed = Cli("close updates", net);
        Assert.True(closed.ExitCode == 0, closed.Stderr);
        Assert.False(net.TcpReachable(LivePolicyTests.Mirror, 80, 700), "close must close at once");
        Assert.Contains("close updates", closed.Stderr);
        Assert.Equal("updates: closed", closed.Stdout.Trim());
        // How much of the window the close cut: open for a minute, closed after a few seconds.
        Assert.Matches(@"uid=0 close updates table=inet netlinkfence namespace \S+: closed now, (\d+s|1m) before its end at \d\d:\d\d:\d\dZ\n", WindowLog(net));

        // Closing a closed window says so: a verb never reports what it did not do (exit 0: it is closed either way).
        var again = Cli("close updates", net);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal("updates: was not open; nothing to close", again.Stdout.Trim());
        Assert.Matches(@"uid=0 close updates table=inet netlinkfence namespace \S+: it was not open; nothing to close", WindowLog(net));
    }

    /// <summary>
    /// An apply replaces the table, and a window entry compiles closed: an open window is closed by it. That is said and
    /// recorded in the window log as a close (an auditor reads that log for when a window let traffic through), with
    /// the command that opens it again, which works as printed. An apply with no window open records nothing.
    /// </summary>
    [Fact]
    public void Apply_closes_an_open_window_and_records_it_with_the_command_that_opens_it_again()
    {
        using var net = World();
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}").ExitCode);
        Assert.Equal(0, Cli("open updates", net).ExitCode); // the whole window, 1m
        Assert.True(net.TcpReachable(LivePolicyTests.Mirror, 80, AgentAndWorld.ExpectedThroughMs), "opened");

        var apply = CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr);
        string reopen = $"netlinkfence open updates --policy {_policy} --netns {net.Agent.Name}";
        var said = Regex.Match(apply.Stderr, @"netlinkfence: close updates \(uid 0\): closed by apply, which replaces the table \(it had (1m|[1-5]\ds|[1-9]s) left\); '([^']+)' opens it again");
        Assert.True(said.Success, apply.Stderr);
        Assert.Equal(reopen, said.Groups[2].Value);
        Assert.Matches(@"uid=0 close updates table=inet netlinkfence namespace \S+: closed by apply, which replaces the table \(it had \S+ left\); '"
            + Regex.Escape(reopen) + "' opens it again", WindowLog(net));
        Assert.False(net.TcpReachable(LivePolicyTests.Mirror, 80, 700), "the apply closed it");

        var again = CliRunner.Run(said.Groups[2].Value["netlinkfence ".Length..]);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.True(net.TcpReachable(LivePolicyTests.Mirror, 80, AgentAndWorld.ExpectedThroughMs), "opened again as printed");

        // Closed first: the next apply closes nothing and says nothing of it.
        Assert.Equal(0, Cli("close updates", net).ExitCode);
        var quiet = CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}");
        Assert.True(quiet.ExitCode == 0, quiet.Stderr);
        Assert.DoesNotContain("closed by apply", quiet.Stderr);
        Assert.Single(Regex.Matches(WindowLog(net), "closed by apply"));
    }

    /// <summary>
    /// A rollback puts the table from before an apply back, and with it the windows that were open then, but only for
    /// the time each had left: one whose time ran out since stays closed (the kernel had closed it, and a rollback must
    /// not open it again), one with time left is back for no longer than that, and the window log says so.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_rollback_gives_a_window_back_only_the_time_it_had_left(bool ranOut)
    {
        using var net = World();
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}").ExitCode);
        var open = Cli(ranOut ? "open updates --for 5s" : "open updates", net); // 5s, or the whole 1m window
        Assert.True(open.ExitCode == 0, open.Stderr);
        var opened = Stopwatch.StartNew(); // the window's time began before this: it closes no later than 5s or 1m from here
        var apply = CliRunner.Run($"apply {_policy} --netns {net.Agent.Name} --confirm-within 5m");
        Assert.True(apply.ExitCode == 0, apply.Stderr);
        Assert.False(net.TcpReachable(LivePolicyTests.Mirror, 80, 700), "the apply closed the window");
        // Past the 5 s the window was opened for; with the 1m, long enough that the time it had at the apply's listing
        // (which a rollback used to give it back) is seconds more than it has at the rollback.
        Thread.Sleep(TimeSpan.FromSeconds(ranOut ? 6.5 : 5) - opened.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);

        var rollback = CliRunner.Run($"rollback --netns {net.Agent.Name}");
        Assert.True(rollback.ExitCode == 0, rollback.Stderr);
        string set = net.Agent.Nft("list set inet netlinkfence allow_v4");
        if (ranOut)
        {
            Assert.Contains("1 timed element left out: its time ran out since the snapshot", rollback.Stdout);
            Assert.DoesNotContain("203.0.113.80", set);
            Assert.False(net.TcpReachable(LivePolicyTests.Mirror, 80, 700), "a rollback opened again a window whose time ran out");
            Assert.DoesNotContain("reopen updates", WindowLog(net));
        }
        else
        {
            Assert.Contains("1 of them timed, with the time it has left now", rollback.Stdout);
            // No more than it had left: the 1m less the time since it was opened (read after the listing; + 1 for
            // the listing's whole seconds).
            var expires = Regex.Match(set, @"203\.0\.113\.80 \. tcp \. 80 .*?expires (?:(\d+)m)?(\d+)s");
            Assert.True(expires.Success, set);
            double left = (expires.Groups[1].Success ? 60 * int.Parse(expires.Groups[1].Value) : 0) + int.Parse(expires.Groups[2].Value);
            Assert.True(left <= 60 - Math.Floor(opened.Elapsed.TotalSeconds) + 1, $"{left}s left after {opened.Elapsed.TotalSeconds:0.0}s: {set}");
            Assert.True(net.TcpReachable(LivePolicyTests.Mirror, 80, AgentAndWorld.ExpectedThroughMs), "the window came back with the rollback");
            Assert.Matches(@"uid=0 reopen updates table=inet netlinkfence namespace \S+: back with the table that rollback restored, for the \d+s it had left", WindowLog(net));
        }
    }

    /// <summary>
    /// A window opened while an apply waits for its confirmation is closed by the rollback (the table of before had it
    /// closed): recorded as a close, as an apply's is, by <c>rollback</c> and by the waiter at its deadline alike.
    /// </summary>
    [Theory]
    [InlineData("rollback verb")]
    [InlineData("waiter")]
    public void A_rollback_records_the_windows_it_closes(string how)
    {
        using var net = World();
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}").ExitCode);
        var apply = CliRunner.Run($"apply {_policy} --netns {net.Agent.Name} --confirm-within {(how == "waiter" ? "6s" : "5m")}");
        Assert.True(apply.ExitCode == 0, apply.Stderr);
        var open = Cli("open updates", net); // the whole 1m window
        Assert.True(open.ExitCode == 0, open.Stderr);
        Assert.True(net.TcpReachable(LivePolicyTests.Mirror, 80, AgentAndWorld.ExpectedThroughMs), "open");

        string restoredBy = how == "waiter" ? @"the unconfirmed apply's rollback \(no confirm arrived in time\)" : "that rollback";
        string closed = @"uid=0 close updates table=inet netlinkfence namespace \S+: closed: the table " + restoredBy
            + @" restored does not have it open \(it had (1m|[1-5]\ds) left\)
";
        if (how == "waiter")
            Assert.True(Poll.Until(() => Regex.IsMatch(WindowLog(net), closed), 60), WindowLog(net));
        else
        {
            var rollback = CliRunner.Run($"rollback --netns {net.Agent.Name}");
            Assert.True(rollback.ExitCode == 0, rollback.Stderr);
            Assert.Matches(closed, WindowLog(net));
        }
        Assert.False(net.TcpReachable(LivePolicyTests.Mirror, 80, 700), "the rollback closed the window");
        Assert.DoesNotContain("reopen updates", WindowLog(net));
    }

    /// <summary>
    /// <c>status</c> says what the window log last recorded of each window (who opened or closed it, and when), and
    /// flags an open window whose opening the log does not hold: an agent embedding the library opened it, and only the
    /// kernel knows. <c>history</c> lists the log itself.
    /// </summary>
    [Fact]
    public async Task Status_says_who_last_opened_or_closed_each_window_and_flags_an_opening_nobody_recorded_and_history_lists_them()
    {
        using var net = World();
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}").ExitCode);
        string Line() => Regex.Match(Cli("status", net).Stdout, "^updates: .*$", RegexOptions.Multiline).Value;
        Assert.Matches(@"^updates: closed \(window 1m, \S+\)$", Line()); // nothing recorded yet

        Assert.Equal(0, Cli("open updates", net).ExitCode);
        Assert.Matches(@"^updates: open, (1m|\d+s) left \(window 1m, \S+\); opened by uid 0 at 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$", Line());
        Assert.Equal(0, Cli("close updates", net).ExitCode);
        Assert.Matches(@"^updates: closed \(window 1m, \S+\); closed by uid 0 at 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$", Line());

        // Opened through the library, which writes no window log (the table is not owned: no daemon runs).
        var resolved = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(LivePolicyTests.Yaml, "live.yaml"), new FixedResolver());
        await using (var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name }))
            await (await LivePolicy.AttachAsync(nft, resolved)).OpenWindowAsync("updates", TimeSpan.FromSeconds(40));
        Assert.Matches(@"^updates: open, \d+s left \(window 1m, \S+\); its opening is NOT in the window log: a writer that records nothing opened it "
            + @"\(an agent embedding LivePolicy, or nft\); the log's last line of it: closed by uid 0 at ", Line());
        var json = Cli("status --output json", net);
        using var document = JsonDocument.Parse(json.Stdout);
        var window = document.RootElement.GetProperty("windows").EnumerateArray().Single();
        Assert.True(window.GetProperty("unrecorded_opening").GetBoolean(), json.Stdout);
        Assert.Equal("close", window.GetProperty("last_record").GetProperty("verb").GetString());
        Assert.Equal(0, window.GetProperty("last_record").GetProperty("uid").GetInt32());

        // history: the whole record, oldest first (the library's opening is not in it: that is what status flags).
        var history = Cli("history", net);
        Assert.True(history.ExitCode == 0, history.Stderr);
        var lines = history.Stdout.TrimEnd().Split('\n');
        Assert.True(lines.Length == 2, history.Stdout);
        Assert.Matches(@"^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z open updates \(uid 0\): for 1m, open (1m|\d+s) from now, until \d\d:\d\d:\d\dZ$", lines[0]);
        Assert.Matches(@"^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z close updates \(uid 0\): closed now, \d+s before its end at \d\d:\d\d:\d\dZ$", lines[1]);
        var historyJson = Cli("history updates --output json", net);
        using var records = JsonDocument.Parse(historyJson.Stdout);
        Assert.Equal(["open", "close"], records.RootElement.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("verb").GetString()));
        var none = Cli("history other", net);
        Assert.True(none.ExitCode == 0 && none.Stdout == "", none.Stdout + none.Stderr);
        Assert.Contains("no change to window 'other' of table inet netlinkfence is recorded in namespace", none.Stderr);
    }

    [Fact]
    public void Probe_of_a_closed_window_names_the_open_that_opens_it_where_probe_looked_and_it_works_as_printed()
    {
        using var net = World();
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}").ExitCode);
        var probe = Cli($"probe tcp:{LivePolicyTests.Mirror}:80 --timeout-ms 1500", net);
        Assert.True(probe.ExitCode == 0, probe.Stderr);
        Assert.Contains("DENIED", probe.Stdout);
        // Without --policy and --netns, the printed command would open the default policy's window on the host.
        var printed = Regex.Match(probe.Stdout, "to open it: '(netlinkfence open [^']*)'");
        Assert.True(printed.Success, probe.Stdout);
        Assert.Equal($"netlinkfence open updates --policy {_policy} --netns {net.Agent.Name}", printed.Groups[1].Value);

        var opened = CliRunner.Run(printed.Groups[1].Value["netlinkfence ".Length..] + " --for 30s");
        Assert.True(opened.ExitCode == 0, opened.Stderr);
        Assert.True(net.TcpReachable(LivePolicyTests.Mirror, 80, AgentAndWorld.ExpectedThroughMs), "the printed open must open the probed window");
    }

    [Theory]
    [InlineData("open nosuch", "has no egress entry 'nosuch'")]
    [InlineData("open control", "'control' has no 'window:'")]
    [InlineData("open updates --for 0", "--for '0' is not a duration")]
    [InlineData("open updates --for 0s", "more than 0s")]
    [InlineData("open updates --for 25h", "at most its window, 1m")]
    [InlineData("open updates --for 2m", "at most its window, 1m")]
    [InlineData("open updates --for soon", "not a duration")]
    [InlineData("close nosuch", "has no egress entry 'nosuch'")]
    public void Bad_input_is_exit_2_with_a_plain_message_and_the_table_unchanged(string verb, string message)
    {
        using var net = World();
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}").ExitCode);
        string before = net.Agent.Nft("-s list table inet netlinkfence");
        var result = Cli(verb, net);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr);
        Assert.DoesNotContain("internal error", result.Stderr);
        Assert.Equal(before, net.Agent.Nft("-s list table inet netlinkfence"));
    }

    [Theory]
    [InlineData("status")]
    [InlineData("open updates")]
    [InlineData("close updates")]
    [InlineData("stats")]
    public void Without_the_table_a_verb_names_the_namespace_and_the_apply_that_makes_it_which_works_as_printed(string verb)
    {
        using var net = World();
        var result = Cli(verb, net);
        Assert.Equal(1, result.ExitCode);
        var printed = Regex.Match(result.Stderr, $@"there is no table inet netlinkfence in namespace {net.Agent.Name} \(removed, or never applied\): apply the policy first: '(netlinkfence apply [^']+)'");
        Assert.True(printed.Success, result.Stderr);
        Assert.Equal($"netlinkfence apply {_policy} --netns {net.Agent.Name}", printed.Groups[1].Value);

        Assert.Equal(0, CliRunner.Run(printed.Groups[1].Value["netlinkfence ".Length..]).ExitCode);
        result = Cli(verb, net);
        Assert.True(result.ExitCode == 0, result.Stderr);
    }

    [Fact]
    public void Open_without_a_policy_file_is_exit_2()
    {
        var result = CliRunner.Run($"open updates --policy {Path.Combine(_dir, "absent.yaml")}");
        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public void Stats_shows_per_entry_and_denied_counters_with_locations()
    {
        using var net = World();
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}").ExitCode);
        for (int i = 0; i < 2; i++)
            Assert.True(net.TcpReachable(LivePolicyTests.Control, 443, AgentAndWorld.ExpectedThroughMs));
        Assert.False(net.TcpReachable(LivePolicyTests.Mirror, 80, 700));
        var stats = Cli("stats --output json", net);
        Assert.True(stats.ExitCode == 0, stats.Stderr);
        using var json = JsonDocument.Parse(stats.Stdout);
        var control = json.RootElement.GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("entry").GetString() == "control");
        Assert.True(control.GetProperty("packets").GetUInt64() >= 2);
        Assert.Equal($"{_policy}:7:7", control.GetProperty("location").GetString());
        Assert.Equal(1, control.GetProperty("elements").GetInt32());
        var updates = json.RootElement.GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("entry").GetString() == "updates");
        Assert.Equal(0, updates.GetProperty("elements").GetInt32()); // a closed window allows nothing
        var denied = json.RootElement.GetProperty("denied").EnumerateArray().Single(e => e.GetProperty("chain").GetString() == "egress_denied");
        Assert.True(denied.GetProperty("packets").GetUInt64() >= 1);
        var text = Cli("stats", net);
        Assert.Matches($@"(?m)^  egress control +[2-9]\d* packets +\d+ bytes +1 element +\({Regex.Escape(_policy)}:7:7\)$", text.Stdout);
        Assert.Matches(@"(?m)^  egress updates +0 packets +0 bytes +0 elements +\(", text.Stdout);
    }

    /// <summary>
    /// A window open for longer than its <c>window:</c> (netlinkfence never opens one so: another process did) is said by
    /// <c>status</c>, with the close that ends it, which works as printed; a window netlinkfence opened is not flagged.
    /// </summary>
    [Fact]
    public void Status_flags_a_window_open_for_longer_than_its_window()
    {
        using var net = World();
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}").ExitCode);
        Assert.Equal(0, Cli("open updates", net).ExitCode);
        var ours = Cli("status --output json", net);
        Assert.Contains("\"longer_than_window\":false", ours.Stdout.Replace(" ", ""));
        Assert.DoesNotContain("LONGER", Cli("status", net).Stdout);

        net.Agent.Nft("-f -", "add element inet netlinkfence allow_v4 { 203.0.113.80 . tcp . 80 timeout 10m comment \"updates\" }\n");
        var status = Cli("status", net);
        Assert.True(status.ExitCode == 0, status.Stderr);
        string close = $"netlinkfence close updates --policy {_policy} --netns {net.Agent.Name}";
        Assert.Matches(@"updates: open, (10m|9m\d+s) left \(window 1m, [^)]+\); LONGER than its window: opened for more than the policy allows \(by another process, "
            + @"or before its window was shortened\), which 'netlinkfence verify' reports; '" + Regex.Escape(close) + "' closes it", status.Stdout);
        Assert.Contains("\"longer_than_window\":true", Cli("status --output json", net).Stdout.Replace(" ", ""));

        Assert.Equal(0, CliRunner.Run(close["netlinkfence ".Length..]).ExitCode);
        Assert.Contains("updates: closed (window 1m", Cli("status", net).Stdout);
        Assert.False(net.TcpReachable(LivePolicyTests.Mirror, 80, 700), "closed as printed");
    }

    [Fact]
    public void Status_says_when_a_closed_windows_traffic_still_passes_through_another_entry()
    {
        using var net = World();
        File.WriteAllText(_policy, LivePolicyTests.SharedYaml);
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {net.Agent.Name}").ExitCode);
        Assert.Equal(0, Cli("open all-mirrors", net).ExitCode);
        Assert.True(net.TcpReachable(LivePolicyTests.Mirror, 80, AgentAndWorld.ExpectedThroughMs));

        var status = Cli("status", net);
        Assert.True(status.ExitCode == 0, status.Stderr);
        string[] lines = status.Stdout.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("updates: closed (window 1m, ", StringComparison.Ordinal)
            && l.EndsWith("; part of its traffic still passes, allowed by all-mirrors", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("api-too: closed", StringComparison.Ordinal) && l.EndsWith("allowed by control", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("all-mirrors: open", StringComparison.Ordinal) && !l.Contains("still passes"));

        var json = Cli("status --output json", net);
        Assert.True(json.ExitCode == 0, json.Stderr);
        using var document = JsonDocument.Parse(json.Stdout);
        var windows = document.RootElement.GetProperty("windows").EnumerateArray()
            .ToDictionary(w => w.GetProperty("entry").GetString()!, w => w.GetProperty("also_allowed_by").EnumerateArray().Select(e => e.GetString()).ToList());
        Assert.Equal(["all-mirrors"], windows["updates"]);
        Assert.Equal(["control"], windows["api-too"]);
        Assert.Empty(windows["all-mirrors"]);
    }

    [Fact]
    public void Status_of_a_policy_without_windows_names_the_table_once_and_says_there_are_none()
    {
        using var ns = TestNamespace.Create();
        File.WriteAllText(_policy, LivePolicyTests.Yaml.Replace("\n      window: 1m", "", StringComparison.Ordinal));
        Assert.DoesNotContain("window:", File.ReadAllText(_policy));
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {ns.Name}").ExitCode);

        var status = CliRunner.Run($"status --policy {_policy} --netns {ns.Name}");
        Assert.True(status.ExitCode == 0, status.Stderr);
        // A process status may not read (a sandbox's PID 1 with capabilities this one lacks) adds a line saying so.
        string[] lines = status.Stdout.TrimEnd('\n').Split('\n').Where(l => !l.StartsWith("capabilities: ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(5, lines.Length);
        Assert.StartsWith("table inet netlinkfence: no daemon holds it", lines[0]);
        Assert.Equal($"applied by this build, {OtherBuild.ThisBuild()}", lines[1]);
        // Nothing runs in the fresh namespace (the CLI reads it from outside): no one can get around the table.
        Assert.StartsWith("packet sockets: no process here holds CAP_NET_RAW", lines[2]);
        Assert.Equal("network administration: no process here holds CAP_NET_ADMIN", lines[3]);
        Assert.Equal("windows: none (no allow entry of the policy has 'window:')", lines[4]);
    }
}
