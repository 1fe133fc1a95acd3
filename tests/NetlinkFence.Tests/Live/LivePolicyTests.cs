using System.Net;
using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Monitoring;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Live;

/// <summary>
/// Issue 11, the library: a <see cref="LivePolicy"/> attached to an applied table, with real traffic from the agent
/// namespace to the world namespace. Windows open and close as element transactions the kernel enforces.
/// </summary>
public sealed class LivePolicyTests(ITestOutputHelper output)
{
    internal const string Mirror = "203.0.113.80", Control = "203.0.113.50", Extra = "198.51.100.9";

    internal const string Yaml = """
        version: 1
        hosts:
          api.ironclaw.example: [203.0.113.50]
          deb.mirror.example: [203.0.113.80]
        egress:
          allow:
            - name: control
              to: [api.ironclaw.example]
              tcp: [443]
            - name: updates
              to: [deb.mirror.example]
              tcp: [80]
              window: 1m
        """;

    internal static async Task<(LivePolicy Live, NftablesConnection Nft)> ApplyAsync(AgentAndWorld net, string yaml = Yaml, FixedResolver? resolver = null)
    {
        var resolved = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(yaml, "live.yaml"), resolver ?? new FixedResolver());
        var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, PolicyCompiler.Compile(resolved));
        return (await LivePolicy.AttachAsync(nft, resolved), nft);
    }

    internal static AgentAndWorld World()
    {
        var net = new AgentAndWorld(Mirror, Control, Extra);
        net.ListenTcp(Mirror, 80);
        net.ListenTcp(Control, 443);
        net.ListenTcp(Extra, 443);
        return net;
    }

    [Fact]
    public async Task A_window_is_closed_after_apply_opens_and_closes_at_once()
    {
        using var net = World();
        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs)); // the listener works: a "denied" below is the firewall
        var (live, nft) = await ApplyAsync(net);
        await using var _ = nft;
        Assert.True(net.TcpReachable(Control, 443, AgentAndWorld.ExpectedThroughMs));
        Assert.False(net.TcpReachable(Mirror, 80, 700), "a window entry must be closed after apply");
        Assert.False(Assert.Single(await live.WindowsAsync()).IsOpen);
        Assert.False(await live.CloseWindowAsync("updates"), "closing a closed window reports that it was not open");

        var opened = await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(50));
        Assert.InRange(opened.Remaining!.Value, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(50));
        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs));

        Assert.True(await live.CloseWindowAsync("updates"), "the window was open");
        Assert.False(net.TcpReachable(Mirror, 80, 700), "close must close at once");
        Assert.False(Assert.Single(await live.WindowsAsync()).IsOpen);
        Assert.False(await live.CloseWindowAsync("updates"), "closed already");
        Assert.True(net.TcpReachable(Control, 443, AgentAndWorld.ExpectedThroughMs));
    }

    /// <summary><see cref="Yaml"/> with window entries that share destinations with each other and with the permanent entry.</summary>
    internal const string SharedYaml = Yaml + "\n" + """
            - name: all-mirrors
              to: [deb.mirror.example, 198.51.100.9]
              tcp: [80, 443]
              window: 1m
            - name: mirror-tls
              to: [deb.mirror.example]
              tcp: [443]
              window: 1m
            - name: api-too
              to: [203.0.113.48/29]
              tcp: [443]
              window: 1m
        """;

    [Fact]
    public async Task A_closed_window_names_the_entries_that_still_let_part_of_its_traffic_through()
    {
        using var net = World();
        var (live, nft) = await ApplyAsync(net, SharedYaml);
        await using var _ = nft;
        async Task<Dictionary<string, LiveWindow>> Windows() => (await live.WindowsAsync()).ToDictionary(w => w.Entry.Name);

        var windows = await Windows();
        Assert.Empty(windows["updates"].AlsoAllowedBy);
        Assert.Empty(windows["all-mirrors"].AlsoAllowedBy);
        Assert.Equal(["control"], windows["api-too"].AlsoAllowedBy); // the permanent entry allows one address of its /29

        await live.OpenWindowAsync("all-mirrors", TimeSpan.FromSeconds(50));
        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs), "all-mirrors is open");
        windows = await Windows();
        Assert.False(windows["updates"].IsOpen);
        Assert.Equal(["all-mirrors"], windows["updates"].AlsoAllowedBy); // closed, and its traffic passes all the same
        Assert.Equal(["all-mirrors"], windows["mirror-tls"].AlsoAllowedBy);
        Assert.Equal(["control"], windows["api-too"].AlsoAllowedBy);

        await live.CloseWindowAsync("all-mirrors");
        await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(50));
        windows = await Windows();
        Assert.Equal(["updates"], windows["all-mirrors"].AlsoAllowedBy); // a part: the mirror on 80, not on 443 or 198.51.100.9
        Assert.Empty(windows["mirror-tls"].AlsoAllowedBy); // the same host on another port
        Assert.Empty(windows["updates"].AlsoAllowedBy);

        await live.CloseWindowAsync("updates");
        Assert.False(net.TcpReachable(Mirror, 80, 700), "every window on the mirror is closed");
        Assert.Empty((await Windows())["updates"].AlsoAllowedBy);
    }

    [Fact]
    public async Task Opening_twice_extends_and_never_shortens()
    {
        using var net = World();
        var (live, nft) = await ApplyAsync(net);
        await using var _ = nft;
        await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(20));
        var extended = await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(55));
        Assert.True(extended.Remaining > TimeSpan.FromSeconds(35), $"extended to {extended.Remaining}");
        var kept = await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(5));
        Assert.True(kept.Remaining > TimeSpan.FromSeconds(30), $"a shorter open shortened the window to {kept.Remaining}");

        // Another process (a fresh attach, as the CLI does) sees the same expiry in the kernel and does not shorten it either.
        var resolved = live.Policy;
        await using var other = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        var second = await LivePolicy.AttachAsync(other, resolved);
        var seen = await second.OpenWindowAsync("updates", TimeSpan.FromSeconds(5));
        Assert.True(seen.Remaining > TimeSpan.FromSeconds(30), $"a second attach shortened the window to {seen.Remaining}");
        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs));
    }

    [Fact]
    public async Task Opening_commits_only_element_messages_in_one_generation_checked_transaction()
    {
        using var net = World();
        var (live, nft) = await ApplyAsync(net);
        await using var _ = nft;
        await using var monitor = await NftablesMonitor.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        uint before = await nft.GetGenerationAsync();
        await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(30));
        await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(50)); // the extension too
        var changes = new List<NftablesChange>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int commits = 0;
        await foreach (var change in monitor.ReadChangesAsync(timeout.Token))
        {
            changes.Add(change);
            output.WriteLine(change.ToString());
            if (change.Kind == NftablesChangeKind.Committed && ++commits == 2)
                break;
        }
        Assert.All(changes.Where(c => c.Kind != NftablesChangeKind.Committed),
            c => Assert.Contains(c.Kind, new[] { NftablesChangeKind.ElementsAdded, NftablesChangeKind.ElementsDeleted }));
        Assert.Contains(changes, c => c.Kind == NftablesChangeKind.ElementsAdded && c.SetName == "allow_v4");
        Assert.Equal(before + 2, await nft.GetGenerationAsync()); // two commits, one each
    }

    [Fact]
    public async Task A_change_after_another_writer_committed_rereads_and_applies_once()
    {
        using var net = World();
        var (live, nft) = await ApplyAsync(net);
        await using var _ = nft;
        // Another writer moves the generation: our next change conflicts, re-reads and succeeds on its second attempt.
        net.Agent.Nft("add table inet bystander");
        await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(30));
        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs));
    }

    [Fact]
    public async Task A_change_the_model_thinks_is_done_is_made_when_another_writer_took_it_away()
    {
        using var net = World();
        var (live, nft) = await ApplyAsync(net);
        await using var _ = nft;
        await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(50));
        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs));
        // Another writer replaces the table (as a watch-mode repair does): the window is closed, the model still has it.
        var resolved = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(Yaml, "live.yaml"), new FixedResolver());
        await using (var other = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name }))
            await PolicyApplier.ApplyAsync(other, PolicyCompiler.Compile(resolved));
        Assert.False(net.TcpReachable(Mirror, 80, 700), "the replace did not close the window");
        // By the model nothing is to do (it is open for longer); the generation says the model is old: re-read, then open.
        await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(40));
        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs), "the window was not opened again: the change was judged against a stale model");
        Assert.True(Assert.Single(await live.WindowsAsync()).IsOpen);
    }

    [Fact]
    public async Task Destinations_are_added_with_a_timeout_and_removed()
    {
        using var net = World();
        var (live, nft) = await ApplyAsync(net);
        await using var _ = nft;
        Assert.False(net.TcpReachable(Extra, 443, 700));
        await live.AddDestinationAsync("control", IPNetwork.Parse(Extra + "/32"), TimeSpan.FromMinutes(5));
        Assert.True(net.TcpReachable(Extra, 443, AgentAndWorld.ExpectedThroughMs));
        string listed = net.Agent.Nft("list set inet netlinkfence allow_v4");
        output.WriteLine(listed);
        Assert.Matches(@"198\.51\.100\.9 \. tcp \. 443[^\n]*timeout (4m5\d|5m)", listed); // the kernel's own countdown
        await live.RemoveDestinationAsync("control", IPNetwork.Parse(Extra + "/32"));
        Assert.False(net.TcpReachable(Extra, 443, 700));
        Assert.True(net.TcpReachable(Control, 443, AgentAndWorld.ExpectedThroughMs));
    }

    [Fact]
    public async Task A_refreshed_name_is_allowed_until_its_expiry_and_a_closed_window_stays_closed()
    {
        using var net = World();
        // mirror.example is not pinned: resolved (here by a fixed resolver) to the mirror's address at apply time.
        string yaml = Yaml.Replace("  deb.mirror.example: [203.0.113.80]\n", "")
            .Replace("to: [api.ironclaw.example]", "to: [api.ironclaw.example, deb.mirror.example]").Replace("tcp: [443]", "tcp: [443, 80]");
        var resolver = new FixedResolver(new() { ["deb.mirror.example"] = [IPAddress.Parse(Mirror)] });
        var resolved = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(yaml, "live.yaml"), resolver);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, PolicyCompiler.Compile(resolved));
        var live = await LivePolicy.AttachAsync(nft, resolved);
        Assert.False(net.TcpReachable(Extra, 443, 700));

        // The name moved to Extra, valid for 15 s (room for the connection on a loaded runner): 'control' reaches it;
        // 'updates' (a closed window) gains nothing.
        await live.RefreshNameAsync("deb.mirror.example", [(IPAddress.Parse(Extra), DateTimeOffset.UtcNow.AddSeconds(15))]);
        Assert.True(net.TcpReachable(Extra, 443, AgentAndWorld.ExpectedThroughMs));
        string listed = net.Agent.Nft("list set inet netlinkfence allow_v4");
        output.WriteLine(listed);
        Assert.DoesNotContain("\"updates\"", listed);
        Thread.Sleep(TimeSpan.FromSeconds(15 + 3));
        Assert.False(net.TcpReachable(Extra, 443, 700), "the kernel must have expired the refreshed address");
        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs), "the address resolved at apply stays (a one-shot apply does not expire names)");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_later_expiry_moves_the_elements_timeout_in_place_keeping_its_counter(bool inPlace)
    {
        Assert.True(!inPlace || NftablesConnection.KernelMovesElementTimeouts, "this kernel is older than 6.10: the in-place path cannot be tested here");
        using var net = World();
        string yaml = Yaml.Replace("to: [api.ironclaw.example]", "to: [api.ironclaw.example, cdn.example]");
        var resolved = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(yaml, "live.yaml"), new FixedResolver(new() { ["cdn.example"] = [IPAddress.Parse(Extra)] }));
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, PolicyCompiler.Compile(resolved));
        var live = await LivePolicy.AttachAsync(nft, resolved);
        live.RefreshesTimeoutsInPlace = inPlace;
        await live.RefreshNameAsync("cdn.example", [(IPAddress.Parse(Extra), DateTimeOffset.UtcNow.AddSeconds(60))]);
        for (int i = 0; i < 3; i++)
            Assert.True(net.TcpReachable(Extra, 443, AgentAndWorld.ExpectedThroughMs));
        var (packets, expires) = ExtraElement(net);
        Assert.True(packets > 0, "traffic to the refreshed address must be counted on its element");
        Assert.InRange(expires, 40, 60);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new List<NftablesChange>();
        var reading = Task.Run(async () =>
        {
            await foreach (var change in live.ChangesAsync(new() { NetworkNamespace = net.Agent.Name }, timeout.Token))
            {
                lock (seen)
                    seen.Add(change);
            }
        });
        // The monitor joins its group asynchronously: a bystander table's creation, once seen, says it listens.
        for (int i = 0; !Seen(c => c.Kind == NftablesChangeKind.Committed) && i < 100; i++)
        {
            net.Agent.Nft($"add table inet bystander{i}");
            await Task.Delay(100);
        }
        lock (seen)
            seen.Clear();
        await live.RefreshNameAsync("cdn.example", [(IPAddress.Parse(Extra), DateTimeOffset.UtcNow.AddSeconds(240))]);
        var (packetsAfter, expiresAfter) = ExtraElement(net);
        Assert.InRange(expiresAfter, 220, 240);
        // Until the refresh's own commit is seen: a change of allow_v4, then a commit after it (a bystander's late commit,
        // read after the clear above, must not end the wait before the refresh's changes are in).
        for (int i = 0; !RefreshCommitted() && i < 300; i++)
            await Task.Delay(100);
        timeout.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        lock (seen)
            output.WriteLine(string.Join("\n", seen.Select(c => $"{c.Kind} {c.SetName}")));
        if (inPlace)
        {
            // One addition of the element the set holds: nothing deleted, the counter goes on.
            Assert.False(Seen(c => c.Kind == NftablesChangeKind.ElementsDeleted), "an in-place refresh must not delete the element");
            Assert.True(Seen(c => c.Kind == NftablesChangeKind.ElementsAdded && c.SetName == "allow_v4"));
            Assert.True(packetsAfter >= packets, $"the element's counter must survive the refresh ({packets} -> {packetsAfter})");
        }
        else
        {
            // Before 6.10: delete and re-add, so the element starts counting again.
            Assert.True(Seen(c => c.Kind == NftablesChangeKind.ElementsDeleted && c.SetName == "allow_v4"));
            Assert.Equal(0, packetsAfter);
        }
        Assert.True(net.TcpReachable(Extra, 443, AgentAndWorld.ExpectedThroughMs));

        bool Seen(Func<NftablesChange, bool> match)
        {
            lock (seen)
                return seen.Any(match);
        }

        bool RefreshCommitted()
        {
            lock (seen)
            {
                int element = seen.FindIndex(c => c.SetName == "allow_v4");
                return element >= 0 && seen.Skip(element).Any(c => c.Kind == NftablesChangeKind.Committed);
            }
        }
    }

    /// <summary>Packets counted on the 198.51.100.9 . tcp . 443 element and its seconds left, as nft lists them.</summary>
    private (long Packets, double ExpiresSeconds) ExtraElement(AgentAndWorld net)
    {
        string listed = net.Agent.Nft("list set inet netlinkfence allow_v4");
        output.WriteLine(listed);
        var match = System.Text.RegularExpressions.Regex.Match(listed, @"198\.51\.100\.9 \. tcp \. 443 counter packets (\d+) bytes \d+ timeout \S+ expires (?:(\d+)m)?(?:(\d+)s)?");
        Assert.True(match.Success, "the refreshed element is not listed with counter and expiry");
        return (long.Parse(match.Groups[1].Value), (match.Groups[2].Success ? int.Parse(match.Groups[2].Value) * 60 : 0) + (match.Groups[3].Success ? int.Parse(match.Groups[3].Value) : 0));
    }

    [Fact]
    public async Task Changes_reports_this_tables_element_commits()
    {
        using var net = World();
        var (live, nft) = await ApplyAsync(net);
        await using var _ = nft;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<NftablesChange>();
        var reading = Task.Run(async () =>
        {
            await foreach (var change in live.ChangesAsync(new() { NetworkNamespace = net.Agent.Name }, timeout.Token))
            {
                seen.Add(change);
                if (change.Kind == NftablesChangeKind.ElementsAdded)
                    return;
            }
        });
        // The monitor joins the group asynchronously: open (and close) until it has seen an addition.
        while (!reading.IsCompleted && !timeout.IsCancellationRequested)
        {
            net.Agent.Nft("add table inet bystander"); // another table's changes are not reported
            await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(30));
            await live.CloseWindowAsync("updates");
            await Task.WhenAny(reading, Task.Delay(500));
        }
        await reading;
        Assert.Contains(seen, c => c.Kind == NftablesChangeKind.ElementsAdded && c.SetName == "allow_v4");
        Assert.DoesNotContain(seen, c => c.TableName == "bystander");
    }

    [Fact]
    public async Task Per_entry_counters_rise_with_traffic()
    {
        using var net = World();
        var (live, nft) = await ApplyAsync(net);
        await using var _ = nft;
        var before = await live.ReadCountersAsync();
        Assert.All(before, c => Assert.Equal(0UL, c.Packets));
        for (int i = 0; i < 3; i++)
            Assert.True(net.TcpReachable(Control, 443, AgentAndWorld.ExpectedThroughMs));
        var after = await live.ReadCountersAsync();
        var control = Assert.Single(after, c => c.Entry.Name == "control");
        Assert.True(control.Packets >= 3, $"control counted {control.Packets} packets"); // at least each SYN (later packets are established)
        Assert.True(control.Bytes > 0);
        Assert.Equal(0UL, Assert.Single(after, c => c.Entry.Name == "updates").Packets);
    }

    [Fact]
    public async Task Each_entry_counts_the_elements_that_let_it_through_and_none_once_they_expired()
    {
        using var net = World();
        // cdn.example does not resolve at apply (lazy): the entry allows nothing until a refresh hands it an address.
        string yaml = Yaml + "\n" + """
                - name: cdn
                  to: [cdn.example]
                  tcp: [443, 8443]
                  resolve: lazy
                - name: also-control
                  to: [api.ironclaw.example]
                  tcp: [443]
            """;
        var (live, nft) = await ApplyAsync(net, yaml);
        await using var _ = nft;
        // control's element is also-control's too: it counts for both (its comment, and so its counter, names control).
        Assert.Equal([("control", 1), ("updates", 0), ("cdn", 0), ("also-control", 1)], await HeldAsync());
        Assert.Equal(1, ListedFor("control"));

        await live.OpenWindowAsync("updates", TimeSpan.FromMinutes(1));
        // Valid for 15 s: the counters and nft's listing below are read well before the kernel expires the addresses.
        await live.RefreshNameAsync("cdn.example", [(IPAddress.Parse(Extra), DateTimeOffset.UtcNow.AddSeconds(15))]);
        Assert.Equal([("control", 1), ("updates", 1), ("cdn", 2), ("also-control", 1)], await HeldAsync());
        Assert.Equal(2, ListedFor("cdn")); // the oracle: nft's own listing of the set
        Assert.Equal(1, ListedFor("updates"));

        // Nobody refreshes the name (its resolver went silent): the kernel expires its addresses, and the entry holds none.
        Assert.True(NetlinkFence.Tests.Daemon.DaemonProcess.WaitUntil(() => ListedFor("cdn") == 0, 40), net.Agent.Nft("list set inet netlinkfence allow_v4"));
        Assert.Equal([("control", 1), ("updates", 1), ("cdn", 0), ("also-control", 1)], await HeldAsync());
        await live.CloseWindowAsync("updates");
        Assert.Equal([("control", 1), ("updates", 0), ("cdn", 0), ("also-control", 1)], await HeldAsync());

        async Task<(string, int)[]> HeldAsync() => (await live.ReadCountersAsync()).Select(c => (c.Entry.Name, c.Elements)).ToArray();
        int ListedFor(string entry) => net.Agent.Nft("list set inet netlinkfence allow_v4").Split('\n').Count(l => l.Contains($"comment \"{entry}\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reload_changes_elements_when_only_destinations_change_and_replaces_otherwise()
    {
        using var net = World();
        var (live, nft) = await ApplyAsync(net);
        await using var _ = nft;
        await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(50));
        var more = Yaml.Replace("to: [api.ironclaw.example]", $"to: [api.ironclaw.example, {Extra}]");
        var moreResolved = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(more, "live.yaml"), new FixedResolver());
        var reload = await live.ReloadAsync(moreResolved);
        Assert.Equal(ReloadKind.Elements, reload.Kind);
        Assert.True(net.TcpReachable(Extra, 443, AgentAndWorld.ExpectedThroughMs));
        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs), "an open window stays open across an element reload");
        Assert.Equal(ReloadKind.Unchanged, (await live.ReloadAsync(moreResolved)).Kind);

        var logged = more.Replace("egress:", "log:\n  prefix: \"DENIED: \"\negress:");
        var replace = await live.ReloadAsync(await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(logged, "live.yaml"), new FixedResolver()));
        Assert.Equal(ReloadKind.Replace, replace.Kind);
        Assert.True(net.TcpReachable(Extra, 443, AgentAndWorld.ExpectedThroughMs));

        // Only egress.deny changes: a rule of egress_denied, so a replace too, and the window stays open across it.
        var rejecting = await live.ReloadAsync(await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(logged.Replace("egress:", "egress:\n  deny: reject"), "live.yaml"), new FixedResolver()));
        Assert.Equal(ReloadKind.Replace, rejecting.Kind);
        Assert.Contains("reject with icmpx admin-prohibited", net.Agent.Nft("list chain inet netlinkfence egress_denied"));
        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs), "an open window stays open across a replacing reload");
    }

    /// <summary>
    /// What lint's permanent-package-mirror advice leads to: a plain entry that follows a name gets a window: and the
    /// policy is reloaded. Its refreshed addresses (timed, like an open window's) must not keep it open: it is closed at
    /// once, as after an apply.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_plain_entry_that_becomes_a_window_is_closed_by_the_reload_though_its_name_was_refreshed(bool replace)
    {
        using var net = World();
        string plain = Yaml.Replace("  deb.mirror.example: [203.0.113.80]\n", "").Replace("\n      window: 1m", "");
        var resolver = new FixedResolver(new() { ["deb.mirror.example"] = [IPAddress.Parse(Mirror)] });
        var (live, nft) = await ApplyAsync(net, plain, resolver);
        await using var _ = nft;
        await live.RefreshNameAsync("deb.mirror.example", [(IPAddress.Parse(Mirror), DateTimeOffset.UtcNow.AddMinutes(5))]);
        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs));

        string windowed = Yaml.Replace("  deb.mirror.example: [203.0.113.80]\n", "");
        var next = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(
            replace ? windowed.Replace("egress:", "log:\n  prefix: \"DENIED: \"\negress:") : windowed, "live.yaml"), resolver);
        var reload = await live.ReloadAsync(next);

        Assert.Equal(replace ? ReloadKind.Replace : ReloadKind.Elements, reload.Kind);
        output.WriteLine(net.Agent.Nft("list set inet netlinkfence allow_v4"));
        Assert.False(net.TcpReachable(Mirror, 80, 700), "an entry that became a window must be closed after the reload");
        Assert.False(Assert.Single(await live.WindowsAsync()).IsOpen);
        Assert.Empty(live.OpenedWindows);
        Assert.True(net.TcpReachable(Control, 443, AgentAndWorld.ExpectedThroughMs));
    }

    [Fact]
    public async Task Attach_refuses_a_missing_table_and_another_policys_table()
    {
        using var net = World();
        var resolved = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(Yaml, "live.yaml"), new FixedResolver());
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        var missing = await Assert.ThrowsAsync<LivePolicyException>(() => LivePolicy.AttachAsync(nft, resolved));
        Assert.Contains("no table inet netlinkfence", missing.Message);
        var other = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(Yaml.Replace("egress:", "log:\n  prefix: \"X: \"\negress:"), "o.yaml"), new FixedResolver());
        await PolicyApplier.ApplyAsync(nft, PolicyCompiler.Compile(other));
        var foreign = await Assert.ThrowsAsync<LivePolicyException>(() => LivePolicy.AttachAsync(nft, resolved));
        Assert.Contains("not this policy's", foreign.Message);
    }

    [Fact]
    public async Task One_listing_serves_attach_counters_and_windows_as_their_own_reads_do()
    {
        using var net = World();
        var (live, nft) = await ApplyAsync(net);
        await using var _ = nft;
        await live.OpenWindowAsync("updates", TimeSpan.FromMinutes(1));
        for (int i = 0; i < 2; i++)
            Assert.True(net.TcpReachable(Control, 443, AgentAndWorld.ExpectedThroughMs));

        var contents = (await nft.ListTableAsync(NftFamily.Inet, "netlinkfence"))!;
        var attached = LivePolicy.Attach(nft, live.Policy, contents);
        Assert.Equal(Summed(await live.ReadCountersAsync()), Summed(attached.ReadCounters(contents)));
        Assert.True(Assert.Single(attached.ReadCounters(contents), c => c.Entry.Name == "control").Packets >= 2);
        var window = Assert.Single(attached.Windows(contents));
        Assert.True(window.IsOpen);
        Assert.InRange(window.Remaining!.Value, TimeSpan.FromSeconds(40), TimeSpan.FromMinutes(1));
        Assert.Equal("updates", Assert.Single(attached.OpenedWindows).Entry); // open when attached: taken as its own

        // Another writer commits after the listing: the first change, checked against the listing's generation, re-reads and lands.
        net.Agent.Nft("add table inet bystander");
        Assert.True(await attached.CloseWindowAsync("updates"));
        Assert.False(net.TcpReachable(Mirror, 80, 700), "the window stayed open");

        var bystander = (await nft.ListTableAsync(NftFamily.Inet, "bystander"))!;
        Assert.Throws<ArgumentException>(() => LivePolicy.Attach(nft, live.Policy, bystander));
        Assert.Throws<ArgumentException>(() => attached.ReadCounters(bystander));
        Assert.Throws<ArgumentException>(() => attached.Windows(bystander));

        static (string, ulong, ulong, int)[] Summed(IReadOnlyList<EntryCounters> counters) =>
            counters.Select(c => (c.Entry.Name, c.Packets, c.Bytes, c.Elements)).ToArray();
    }
}
