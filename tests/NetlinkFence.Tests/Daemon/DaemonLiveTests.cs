using System.Text;
using NetlinkFence.Cli.Daemon;
using NetlinkFence.Nftables.Monitoring;
using NetlinkFence.Tests.TestSupport;
using Xunit;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// The daemon's live side on the real kernel: a reload that changes only destinations is element changes (the commit's
/// notifications, read with an independent monitor, hold no table, chain, rule or set message), and windows are opened,
/// listed and closed through the daemon (which owns the table, so nothing else could).
/// </summary>
public sealed class DaemonLiveTests
{
    private static string Policy(string destination) => $"""
        version: 1
        egress:
          allow:
            - name: control
              to: [{destination}]
              tcp: [443]
            - name: mirror
              to: [203.0.113.60]
              tcp: [80]
              window: 30m
        """;

    /// <summary>A listing without the time left on each element (it runs down between two listings).</summary>
    private static string WithoutExpiry(string listing) => System.Text.RegularExpressions.Regex.Replace(listing, @" expires \S+", "");

    [Fact]
    public async Task SighupWithAChangedDestinationCommitsOnlyElementChanges()
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(Policy("203.0.113.50"));
        using var daemon = DaemonProcess.Start(policy, ns);
        daemon.WaitReady();
        await using var monitor = await NftablesMonitor.OpenAsync(new() { NetworkNamespace = ns.Name });
        var changes = new List<NftablesChange>();
        using var reading = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var read = Task.Run(async () =>
        {
            await foreach (var change in monitor.ReadChangesAsync(reading.Token))
            {
                changes.Add(change);
                if (change.Kind == NftablesChangeKind.Committed)
                    return;
            }
        });

        File.WriteAllText(policy, Policy("203.0.113.77"));
        daemon.Signal("HUP");
        await read;
        Assert.True(daemon.WaitForLog("reloaded (SIGHUP): element changes only"), daemon.Log);
        var kinds = changes.Select(c => c.Kind).Distinct().ToList();
        Assert.All(changes.Where(c => c.Kind != NftablesChangeKind.Committed),
            c => Assert.True(c.Kind is NftablesChangeKind.ElementsAdded or NftablesChangeKind.ElementsDeleted, c.ToString()));
        Assert.Contains(NftablesChangeKind.ElementsAdded, kinds);
        Assert.Contains(NftablesChangeKind.ElementsDeleted, kinds);
        string listing = ns.Nft("list ruleset");
        Assert.Contains("203.0.113.77", listing);
        Assert.DoesNotContain("203.0.113.50", listing);
        File.Delete(policy);
    }

    /// <summary>
    /// A start (a restart, an upgrade's try-restart) applies the policy as <c>apply</c> does, which closes a window open
    /// from before; the daemon opens it again for the time it had left, so an update in progress is not cut off. The
    /// log lists what the start changed, as <c>apply</c> prints it, and the re-open. Also after the policy was edited
    /// beyond elements (a restart instead of a reload): the windows are carried as a reload carries them.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AStartReopensAWindowOpenBeforeItForTheTimeItHadLeftAndLogsWhatItChanged(bool policyEdited)
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(Policy("203.0.113.50"));
        Assert.Equal(0, CliRunner.Run($"apply {policy} --netns {ns.Name}").ExitCode);
        var open = CliRunner.Run($"open mirror --for 10m --policy {policy} --netns {ns.Name}");
        Assert.True(open.ExitCode == 0, $"exit {open.ExitCode}: {open.Stderr}{open.Stdout}");
        var opened = DateTimeOffset.UtcNow;
        if (policyEdited)
            File.WriteAllText(policy, "log:\n  prefix: \"EDITED: \"\n" + Policy("203.0.113.50"));
        using var daemon = DaemonProcess.Start(policy, ns);
        daemon.WaitReady();
        if (policyEdited)
            Assert.Contains("\"EDITED: \"", ns.Nft("list ruleset"));
        else
            Assert.Contains(": 1 change(s), ", daemon.Log);
        Assert.Contains("(+ added, - removed, ~ changed):", daemon.Log);
        Assert.Matches(@"netlinkfence\[run\]:   - set allow_v4: element 203\.0\.113\.60 \. tcp \. 80 timeout \S+ expires \S+ counter packets 0 bytes 0 comment ""mirror""", daemon.Log);
        Assert.Matches(@"window mirror: it was open before this start, which closed it; opened again for the (9m\d{1,2}s|9m|10m) it had left", daemon.Log);

        // Open again, until (about) the time it had: never longer than the 10m it was opened for. The bound counts from
        // before status ran (it reads the time left when it runs, and its exit can take a second under load) to after
        // open returned (the 10m began no later).
        var beforeStatus = DateTimeOffset.UtcNow;
        var status = CliRunner.Run($"status --policy {policy} --netns {ns.Name} --output json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        using (var json = System.Text.Json.JsonDocument.Parse(status.Stdout))
        {
            var window = Assert.Single(json.RootElement.GetProperty("windows").EnumerateArray());
            Assert.True(window.GetProperty("open").GetBoolean(), status.Stdout);
            Assert.InRange(window.GetProperty("remaining_seconds").GetDouble(), 60, 600 - (beforeStatus - opened).TotalSeconds + 3); // + the re-open's whole-second rounding and commit
        }
        Assert.Contains("203.0.113.60", ns.Nft("list set inet netlinkfence allow_v4"));
        var table = await DaemonTests.ReadTableAsync(ns);
        Assert.Equal(NetlinkFence.Nftables.Table.OwnerFlag | NetlinkFence.Nftables.Table.PersistFlag, table!.Flags); // still the daemon's
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitExit());
        File.Delete(policy);
    }

    /// <summary>
    /// A permanent entry that follows a DNS name holds its addresses timed (TTL + grace), as an open window holds its
    /// destinations. When the policy is edited to make it a window entry and the daemon restarted (not reloaded), the new
    /// daemon must leave it closed, as apply and a reload do, while a window that really was open is carried: the daemon
    /// that made the table recorded which entries were windows. Real dnsmasq in the world namespace.
    /// </summary>
    [Fact]
    public void ARestartAfterAFollowedEntryBecameAWindowLeavesItClosedAndCarriesTheRealWindow()
    {
        const string resolver = "198.51.100.53", cdn = "198.51.100.7";
        using var net = new AgentAndWorld(resolver, cdn);
        using var dns = new Dnsmasq(net.World, resolver, ttlSeconds: 30, ("cdn.test", cdn));
        dns.WaitUntilAnswering(net.Agent, "cdn.test");
        net.ListenTcp(cdn, 443);
        string Policy(string cdnWindow) => $"""
            version: 1
            egress:
              dns:
                resolvers: [{resolver}]
              allow:
                - name: mirror
                  to: [203.0.113.60]
                  tcp: [80]
                  window: 30m
                - name: cdn
                  to: [cdn.test]
                  tcp: [443]{cdnWindow}
            """;
        string policy = DaemonTests.WritePolicy(Policy(""));
        string Listing() => net.Agent.Nft("list set inet netlinkfence allow_v4");
        using (var first = DaemonProcess.Start(policy, net.Agent))
        {
            first.WaitReady();
            // The refresher's first round made the name's address timed (TTL 30s + grace 60s).
            Assert.True(DaemonProcess.WaitUntil(() => System.Text.RegularExpressions.Regex.IsMatch(Listing(), $@"{cdn.Replace(".", @"\.")} \. tcp \. 443 .*timeout"), 60),
                Listing() + first.Log);
            Assert.True(net.TcpReachable(cdn, 443, AgentAndWorld.ExpectedThroughMs));
            var open = CliRunner.Run($"open mirror --for 10m --policy {policy} --netns {net.Agent.Name}");
            Assert.True(open.ExitCode == 0, open.Stderr);
            first.Signal("TERM");
            Assert.Equal(0, first.WaitExit());
        }

        File.WriteAllText(policy, Policy("\n      window: 30m"));
        using var second = DaemonProcess.Start(policy, net.Agent);
        second.WaitReady();
        Assert.Contains("window cdn: the table holds timed addresses of it, but it was not a window entry in the policy that made the table", second.Log);
        Assert.Matches(@"window mirror: it was open before this start, which closed it; opened again for the (9m\d{1,2}s|9m|10m) it had left", second.Log);
        Assert.DoesNotContain("window cdn: it was open before this start", second.Log);
        var status = CliRunner.Run($"status --policy {policy} --netns {net.Agent.Name} --output json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        using (var json = System.Text.Json.JsonDocument.Parse(status.Stdout))
        {
            var windows = json.RootElement.GetProperty("windows").EnumerateArray().ToDictionary(w => w.GetProperty("entry").GetString()!, w => w.GetProperty("open").GetBoolean());
            Assert.Equal(new Dictionary<string, bool> { ["mirror"] = true, ["cdn"] = false }, windows);
        }
        Assert.DoesNotContain(cdn, Listing());
        Assert.False(net.TcpReachable(cdn, 443, 700), "the new window entry must be closed");
        second.Signal("TERM");
        Assert.Equal(0, second.WaitExit());
    }

    [Fact]
    public async Task AReloadThatReplacesTheTableKeepsItOwnedAndItsOpenWindowsOpen()
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy("log:\n  prefix: \"A: \"\n" + Policy("203.0.113.50"));
        using var daemon = DaemonProcess.Start(policy, ns);
        daemon.WaitReady();
        var open = CliRunner.Run($"open mirror --for 10m --policy {policy} --netns {ns.Name}");
        Assert.True(open.ExitCode == 0, $"exit {open.ExitCode}: {open.Stderr}{open.Stdout}");
        File.WriteAllText(policy, "log:\n  prefix: \"B: \"\n" + Policy("203.0.113.50"));
        daemon.Signal("HUP");
        Assert.True(daemon.WaitForLog("reloaded (SIGHUP): atomic replace of the table, open windows and followed names' addresses carried in it"), daemon.Log);
        Assert.Contains("\"B: \"", ns.Nft("list ruleset"));
        Assert.Contains("203.0.113.60", ns.Nft("list ruleset")); // the open window stayed open
        var table = await DaemonTests.ReadTableAsync(ns);
        Assert.Equal(NetlinkFence.Nftables.Table.OwnerFlag | NetlinkFence.Nftables.Table.PersistFlag, table!.Flags);
        var add = TestNamespace.TryRun("ip", $"netns exec {ns.Name} nft add rule inet netlinkfence output accept");
        Assert.True(add.ExitCode != 0 && add.Stderr.Contains("Operation not permitted"), add.Stderr);
        File.Delete(policy);
    }

    [Fact]
    public async Task WithoutOwnershipARepairKeepsAnOpenWindowOpenForTheTimeItHadLeft()
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(Policy("203.0.113.50"));
        using var daemon = DaemonProcess.Start(policy, ns, "--no-owner");
        daemon.WaitReady();
        var open = CliRunner.Run($"open mirror --for 10m --policy {policy} --netns {ns.Name}");
        Assert.True(open.ExitCode == 0, $"exit {open.ExitCode}: {open.Stderr}{open.Stdout}");
        string opened = WithoutExpiry(ns.Nft("list ruleset"));
        Assert.Contains("203.0.113.60", opened);

        // Real drift: the repair replaces the whole table, and the same commit keeps the window open (one commit after
        // the drift's: the window is never closed in between).
        uint before = await DaemonTests.ReadGenerationAsync(ns);
        ns.Nft("add rule inet netlinkfence output meta l4proto tcp accept");
        Assert.True(daemon.WaitForLog("that kept window mirror open for the"), daemon.Log);
        Assert.Equal(before + 2, await DaemonTests.ReadGenerationAsync(ns));
        // The same table as before the drift, the window's element included (its timeout is now the time it had left).
        static string WithoutTimeout(string listing) => System.Text.RegularExpressions.Regex.Replace(WithoutExpiry(listing), @" timeout \S+", "");
        Assert.True(DaemonProcess.WaitUntil(() => WithoutTimeout(ns.Nft("list ruleset")) == WithoutTimeout(opened), 30), ns.Nft("list ruleset") + daemon.Log);
        var left = System.Text.RegularExpressions.Regex.Match(ns.Nft("list ruleset"), @"203\.0\.113\.60 \. tcp \. 80 [^,}]*? expires (\d+)m");
        Assert.True(left.Success && int.Parse(left.Groups[1].Value) is >= 8 and <= 9, ns.Nft("list ruleset")); // what it had left, not a new 10m or 30m
        var status = CliRunner.Run($"status --policy {policy} --netns {ns.Name} --output json");
        Assert.Contains("\"open\":true", status.Stdout.Replace(" ", ""));
        File.Delete(policy);
    }

    [Fact]
    public void WithoutOwnershipAWindowAnotherWriterOpensIsClosedByTheRepair()
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(Policy("203.0.113.50"));
        using var daemon = DaemonProcess.Start(policy, ns, "--no-owner");
        daemon.WaitReady();
        // In the window's place and within its 30m: only this daemon's own record tells it from a window it opened.
        ns.Nft("-f -", "add element inet netlinkfence allow_v4 { 203.0.113.60 . tcp . 80 timeout 10m comment \"mirror\" }\n");
        Assert.True(daemon.WaitForLog("repaired table inet netlinkfence"), daemon.Log);
        Assert.Contains("differs from the policy: Added window mirror: open for", daemon.Log);
        Assert.Contains("not opened by this daemon", daemon.Log);
        Assert.DoesNotContain("203.0.113.60", ns.Nft("list set inet netlinkfence allow_v4"));

        // Longer than the window: closed as well, not cut to the window's 30m (the repair used to re-open it for that).
        ns.Nft("-f -", "add element inet netlinkfence allow_v4 { 203.0.113.60 . tcp . 80 timeout 1h comment \"mirror\" }\n");
        Assert.True(daemon.WaitForLog("repaired table inet netlinkfence", count: 2), daemon.Log);
        Assert.DoesNotContain("203.0.113.60", ns.Nft("list set inet netlinkfence allow_v4"));
        Assert.DoesNotContain("kept window mirror", daemon.Log);

        // A window the daemon opened is kept by the repair of a later drift, for the time it had left.
        var open = CliRunner.Run($"open mirror --for 5m --policy {policy} --netns {ns.Name}");
        Assert.True(open.ExitCode == 0, $"exit {open.ExitCode}: {open.Stderr}{open.Stdout}");
        ns.Nft("add rule inet netlinkfence output meta l4proto tcp accept");
        Assert.True(daemon.WaitForLog("that kept window mirror open for the"), daemon.Log);
        Assert.Contains("203.0.113.60", ns.Nft("list set inet netlinkfence allow_v4"));
        File.Delete(policy);
    }

    [Fact]
    public void StatusThroughTheDaemonNamesTheEntryThatStillLetsAClosedWindowsTrafficThrough()
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(Policy("203.0.113.50") + """

                - name: mirror-too
                  to: [203.0.113.60, 203.0.113.61]
                  tcp: [80]
                  window: 30m
            """);
        using var daemon = DaemonProcess.Start(policy, ns);
        daemon.WaitReady();
        var open = CliRunner.Run($"open mirror-too --policy {policy} --netns {ns.Name}");
        Assert.True(open.ExitCode == 0, $"exit {open.ExitCode}: {open.Stderr}{open.Stdout}");

        var status = CliRunner.Run($"status --policy {policy} --netns {ns.Name}");
        Assert.True(status.ExitCode == 0, status.Stderr);
        Assert.True(daemon.WaitForLog("control: status from uid 0"), daemon.Log);
        Assert.Contains(status.Stdout.Split('\n'), l => l.StartsWith("mirror: closed", StringComparison.Ordinal)
            && l.EndsWith("; part of its traffic still passes, allowed by mirror-too", StringComparison.Ordinal));
        Assert.False(daemon.HasExited);
    }

    [Fact]
    public void WindowsAreOpenedListedAndClosedThroughTheDaemon()
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(Policy("203.0.113.50"));
        using var daemon = DaemonProcess.Start(policy, ns);
        daemon.WaitReady();
        Assert.DoesNotContain("203.0.113.60", ns.Nft("list ruleset"));

        var open = CliRunner.Run($"open mirror --for 10m --policy {policy} --netns {ns.Name}");
        Assert.True(open.ExitCode == 0, $"exit {open.ExitCode}: {open.Stderr}{open.Stdout}");
        Assert.True(daemon.WaitForLog("control: open mirror from uid 0"), daemon.Log);
        Assert.Contains("203.0.113.60", ns.Nft("list ruleset"));

        var status = CliRunner.Run($"status --policy {policy} --netns {ns.Name} --output json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        Assert.Contains("\"entry\":\"mirror\"", status.Stdout.Replace(" ", ""));
        Assert.Contains("\"open\":true", status.Stdout.Replace(" ", ""));
        Assert.True(daemon.WaitForLog("control: status from uid 0"), daemon.Log);

        // Bad input through the daemon: exit 2, nothing changed, the daemon keeps running.
        string before = WithoutExpiry(ns.Nft("list ruleset"));
        var unknown = DaemonTests.Send(DaemonPaths.ControlSocket(ns.Name, "netlinkfence"), Encoding.UTF8.GetBytes("{\"op\":\"open\",\"name\":\"nosuch\"}"));
        Assert.Contains("\"ok\":false", unknown);
        Assert.Contains("\"exit\":2", unknown);
        var tooLong = CliRunner.Run($"open mirror --for 25h --policy {policy} --netns {ns.Name}");
        Assert.Equal(2, tooLong.ExitCode);
        var zero = CliRunner.Run($"open mirror --for 0s --policy {policy} --netns {ns.Name}");
        Assert.Equal(2, zero.ExitCode);
        Assert.Equal(before, WithoutExpiry(ns.Nft("list ruleset")));

        var close = CliRunner.Run($"close mirror --policy {policy} --netns {ns.Name}");
        Assert.True(close.ExitCode == 0, $"exit {close.ExitCode}: {close.Stderr}");
        Assert.True(daemon.WaitForLog("control: close mirror from uid 0"), daemon.Log);
        Assert.Equal("mirror: closed", close.Stdout.Trim());
        Assert.DoesNotContain("203.0.113.60", ns.Nft("list ruleset"));
        var again = CliRunner.Run($"close mirror --policy {policy} --netns {ns.Name}");
        Assert.True(again.ExitCode == 0, $"exit {again.ExitCode}: {again.Stderr}");
        Assert.Equal("mirror: was not open; nothing to close", again.Stdout.Trim());
        Assert.True(daemon.WaitForLog("netlinkfence[run]: close mirror (uid 0): it was not open; nothing to close"), daemon.Log);
        Assert.False(daemon.HasExited);
        File.Delete(policy);
    }
}
