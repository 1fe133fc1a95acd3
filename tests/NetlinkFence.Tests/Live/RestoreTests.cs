using System.Net;
using System.Text.RegularExpressions;
using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Monitoring;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Live;

/// <summary>
/// <see cref="LivePolicy.RestoreAsync"/>, a watch-mode repair's commit: after another writer changed the table, ONE
/// generation-checked replace puts the policy back with the open windows and the followed names' current addresses in
/// it (never a moment without them), and leaves out the addresses a followed name was compiled with. Real traffic from
/// the agent namespace to the world namespace.
/// </summary>
public sealed class RestoreTests(ITestOutputHelper output)
{
    private const string Mirror = LivePolicyTests.Mirror, Control = LivePolicyTests.Control, Extra = LivePolicyTests.Extra;

    /// <summary>What cdn.example resolved to when the policy was applied; the name has moved to <see cref="Extra"/> since.</summary>
    private const string Compiled = "198.51.100.20";

    private static readonly string Yaml = LivePolicyTests.Yaml.Replace("to: [api.ironclaw.example]", "to: [api.ironclaw.example, cdn.example]");

    private static Task<(LivePolicy Live, NftablesConnection Nft)> ApplyAsync(AgentAndWorld net) =>
        LivePolicyTests.ApplyAsync(net, Yaml, new FixedResolver(new() { ["cdn.example"] = [IPAddress.Parse(Compiled)] }));

    private static AgentAndWorld World() => LivePolicyTests.World();

    [Fact]
    public async Task A_restore_is_one_commit_that_keeps_open_windows_and_followed_names_and_drops_the_rest()
    {
        using var net = World();
        var (live, nft) = await ApplyAsync(net);
        await using var _ = nft;
        var now = DateTimeOffset.UtcNow;
        await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(50));
        await live.RefreshNameAsync("cdn.example", [(IPAddress.Parse(Extra), now.AddSeconds(60))]);
        // Another writer's change: an accept-all rule.
        net.Agent.Nft("add rule inet netlinkfence output meta l4proto tcp accept");

        await using var monitor = await NftablesMonitor.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        uint before = await nft.GetGenerationAsync();
        var commit = await live.RestoreAsync([("updates", now.AddSeconds(40))], [("cdn.example", [(IPAddress.Parse(Extra), now.AddSeconds(60))])]);

        // One commit: the replace carried the window and the name's address (nothing was re-added afterwards).
        Assert.Equal(before + 1, await nft.GetGenerationAsync());
        Assert.Equal(before + 1, commit.GenerationAfter);
        var changes = new List<NftablesChange>();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await foreach (var change in monitor.ReadChangesAsync(timeout.Token))
            {
                changes.Add(change);
                if (change.Kind == NftablesChangeKind.Committed)
                    break;
            }
        }
        Assert.Contains(changes, c => c.Kind == NftablesChangeKind.TableDeleted);
        Assert.Contains(changes, c => c.Kind == NftablesChangeKind.ElementsAdded && c.SetName == "allow_v4");

        string listing = net.Agent.Nft("list table inet netlinkfence");
        output.WriteLine(listing);
        Assert.DoesNotContain("meta l4proto tcp accept", listing);
        // The compiled address of the followed name is gone: the name answers Extra now.
        Assert.DoesNotContain(Compiled, listing);
        Assert.Matches(@"198\.51\.100\.9 \. tcp \. 443 [^,}]*timeout", listing);
        // The window kept the time it had left (at most 40 s), not a new minute.
        var left = Regex.Match(listing, @"203\.0\.113\.80 \. tcp \. 80 [^,}]*?timeout (\d+)s");
        Assert.True(left.Success && int.Parse(left.Groups[1].Value) is > 20 and <= 40, listing);
        Assert.Empty(TableDiff.CompareRunning(PolicyCompiler.Compile(live.Policy), await nft.ListTableAsync(NftFamily.Inet, "netlinkfence"), DateTimeOffset.UtcNow));

        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs), "the open window was closed by the restore");
        Assert.True(net.TcpReachable(Extra, 443, AgentAndWorld.ExpectedThroughMs), "the followed name's address was lost by the restore");
        Assert.True(net.TcpReachable(Control, 443, AgentAndWorld.ExpectedThroughMs));
        Assert.True(Assert.Single(await live.WindowsAsync()).IsOpen);
        // The live policy goes on from the restored table: closing the window is an element change again.
        await live.CloseWindowAsync("updates");
        Assert.False(net.TcpReachable(Mirror, 80, 700));
    }

    [Fact]
    public async Task A_deleted_table_is_created_again_with_windows_cut_to_their_entrys_longest()
    {
        using var net = World();
        var (live, nft) = await ApplyAsync(net);
        await using var _ = nft;
        net.Agent.Nft("delete table inet netlinkfence");
        Assert.True(net.TcpReachable(Control, 443, AgentAndWorld.ExpectedThroughMs), "with no table there is no firewall in this namespace");

        // A window claimed to last 10 minutes is cut to its entry's 1m; a name with no address left gets none.
        await live.RestoreAsync([("updates", DateTimeOffset.UtcNow.AddMinutes(10))], [("cdn.example", [])]);
        string listing = net.Agent.Nft("list table inet netlinkfence");
        output.WriteLine(listing);
        Assert.DoesNotContain(Compiled, listing);
        var left = Regex.Match(listing, @"203\.0\.113\.80 \. tcp \. 80 [^,}]*?timeout (1m|\d+s)");
        Assert.True(left.Success && left.Groups[1].Value is "1m" or ['4' or '5', _, 's'], listing);
        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs));
        Assert.False(net.TcpReachable(Extra, 443, 700));
    }

    [Fact]
    public async Task A_name_not_passed_keeps_the_addresses_it_was_applied_with()
    {
        using var net = World();
        var (live, nft) = await ApplyAsync(net);
        await using var _ = nft;
        net.Agent.Nft("add rule inet netlinkfence output meta l4proto tcp accept");
        // Never answered since the apply (no refresher ran): what the apply resolved stands, permanent as apply made it.
        await live.RestoreAsync([], []);
        string listing = net.Agent.Nft("list table inet netlinkfence");
        var element = Regex.Match(listing, @"198\.51\.100\.20 \. tcp \. 443[^,}]*");
        Assert.True(element.Success, listing);
        Assert.DoesNotContain("timeout", element.Value);
        Assert.DoesNotContain("meta l4proto tcp accept", listing);
        Assert.False(Assert.Single(await live.WindowsAsync()).IsOpen);
    }

    [Fact]
    public async Task An_unknown_window_is_refused_before_anything_is_committed()
    {
        using var net = World();
        var (live, nft) = await ApplyAsync(net);
        await using var _ = nft;
        net.Agent.Nft("add rule inet netlinkfence output meta l4proto tcp accept");
        uint before = await nft.GetGenerationAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => live.RestoreAsync([("control", DateTimeOffset.UtcNow.AddSeconds(30))], []));
        await Assert.ThrowsAsync<ArgumentException>(() => live.RestoreAsync([("nosuch", DateTimeOffset.UtcNow.AddSeconds(30))], []));
        Assert.Equal(before, await nft.GetGenerationAsync());
        Assert.Contains("meta l4proto tcp accept", net.Agent.Nft("list table inet netlinkfence"));
    }

    [Fact]
    public async Task A_replacing_reload_keeps_open_windows_and_the_timed_grants_the_new_policy_allows()
    {
        using var net = World();
        var (live, nft) = await LivePolicyTests.ApplyAsync(net);
        await using var _ = nft;
        await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(50));
        await live.AddDestinationAsync("control", IPNetwork.Parse(Extra + "/32"), TimeSpan.FromMinutes(5));

        // A log prefix changes the rules (a replace); the window entry's longest is now 20 s.
        string logged = LivePolicyTests.Yaml.Replace("egress:", "log:\n  prefix: \"DENIED: \"\negress:").Replace("window: 1m", "window: 20s");
        uint before = await nft.GetGenerationAsync();
        var reload = await live.ReloadAsync(await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(logged, "live.yaml"), new FixedResolver()));
        Assert.Equal(ReloadKind.Replace, reload.Kind);
        Assert.Equal(before + 1, await nft.GetGenerationAsync()); // one commit: nothing re-added after the replace
        string listing = net.Agent.Nft("list table inet netlinkfence");
        output.WriteLine(listing);
        Assert.Contains("DENIED: ", listing);
        var left = Regex.Match(listing, @"203\.0\.113\.80 \. tcp \. 80 [^,}]*?timeout (\d+)s");
        Assert.True(left.Success && int.Parse(left.Groups[1].Value) is > 10 and <= 20, listing); // cut to the new window
        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs), "the replace closed the open window");
        Assert.True(net.TcpReachable(Extra, 443, AgentAndWorld.ExpectedThroughMs), "the replace dropped the added destination");

        // Now 'control' is on 8443 only: the destination added for 443 is not the new policy's any more.
        string moved = logged.Replace("prefix: \"DENIED: \"", "prefix: \"DROP: \"").Replace("tcp: [443]", "tcp: [8443]");
        Assert.Equal(ReloadKind.Replace, (await live.ReloadAsync(await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(moved, "live.yaml"), new FixedResolver()))).Kind);
        listing = net.Agent.Nft("list table inet netlinkfence");
        Assert.DoesNotContain(Extra, listing);
        Assert.True(net.TcpReachable(Mirror, 80, AgentAndWorld.ExpectedThroughMs), "the second replace closed the open window");
        Assert.Empty(TableDiff.CompareRunning(PolicyCompiler.Compile(live.Policy), await nft.ListTableAsync(NftFamily.Inet, "netlinkfence"), DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task Opened_windows_are_the_objects_own_through_open_close_reload_and_restore()
    {
        using var net = World();
        var (live, nft) = await LivePolicyTests.ApplyAsync(net);
        await using var _ = nft;
        Assert.Empty(live.OpenedWindows);
        // Another writer's window element: open in the kernel, not this object's.
        net.Agent.Nft("-f -", "add element inet netlinkfence allow_v4 { 203.0.113.80 . tcp . 80 timeout 30s comment \"updates\" }\n");
        Assert.True(Assert.Single(await live.WindowsAsync()).IsOpen);
        Assert.Empty(live.OpenedWindows);

        await live.OpenWindowAsync("updates", TimeSpan.FromSeconds(50));
        var (entry, until) = Assert.Single(live.OpenedWindows);
        Assert.Equal("updates", entry);
        Assert.InRange(until - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(50));
        // Attached now, another object takes what is open as its own.
        await using (var second = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name }))
            Assert.Single((await LivePolicy.AttachAsync(second, live.Policy)).OpenedWindows);

        // A replacing reload that shortens the window to 20 s cuts the record too.
        string shorter = LivePolicyTests.Yaml.Replace("egress:", "log:\n  prefix: \"DENIED: \"\negress:").Replace("window: 1m", "window: 20s");
        await live.ReloadAsync(await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(shorter, "live.yaml"), new FixedResolver()));
        Assert.InRange(Assert.Single(live.OpenedWindows).Until - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20));

        await live.CloseWindowAsync("updates");
        Assert.Empty(live.OpenedWindows);
        await live.RestoreAsync([("updates", DateTimeOffset.UtcNow.AddSeconds(15))], []);
        Assert.InRange(Assert.Single(live.OpenedWindows).Until - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));
        await live.RestoreAsync([], []);
        Assert.Empty(live.OpenedWindows);
        Assert.False(Assert.Single(await live.WindowsAsync()).IsOpen);
    }

    /// <summary>The policy applied, with two destinations added to "control": <c>Extra</c> for 5 min, 198.51.100.10 until removed.</summary>
    private static async Task<(LivePolicy Live, NftablesConnection Nft)> WithTwoAddedAsync(AgentAndWorld net)
    {
        var (live, nft) = await LivePolicyTests.ApplyAsync(net);
        await live.AddDestinationAsync("control", IPNetwork.Parse(Extra + "/32"), TimeSpan.FromMinutes(5));
        await live.AddDestinationAsync("control", IPNetwork.Parse("198.51.100.10/32")); // until removed (a reload does not keep it)
        return (live, nft);
    }

    [Fact]
    public async Task Destinations_this_object_added_survive_a_restore_and_removed_or_foreign_ones_do_not()
    {
        using var net = World();
        var (live, nft) = await WithTwoAddedAsync(net);
        await using var _ = nft;
        await live.AddDestinationAsync("control", IPNetwork.Parse("198.51.100.11/32"));
        await live.RemoveDestinationAsync("control", IPNetwork.Parse("198.51.100.11/32"));
        // Another writer's: an element that looks like an added destination, and an accept-all rule.
        net.Agent.Nft("-f -", "add element inet netlinkfence allow_v4 { 198.51.100.12 . tcp . 443 timeout 5m comment \"control\" }\n");
        net.Agent.Nft("add rule inet netlinkfence output meta l4proto tcp accept");

        uint before = await nft.GetGenerationAsync();
        await live.RestoreAsync([], []);
        Assert.Equal(before + 1, await nft.GetGenerationAsync()); // one replace, nothing re-added after it
        string listing = net.Agent.Nft("list table inet netlinkfence");
        output.WriteLine(listing);
        var timed = Regex.Match(listing, @"198\.51\.100\.9 \. tcp \. 443 [^,}]*?timeout (\d+)m");
        Assert.True(timed.Success && int.Parse(timed.Groups[1].Value) is 4 or 5, listing); // its own timeout, not a new one
        var permanent = Regex.Match(listing, @"198\.51\.100\.10 \. tcp \. 443[^,}]*");
        Assert.True(permanent.Success, listing);
        Assert.DoesNotContain("timeout", permanent.Value);
        Assert.DoesNotContain("198.51.100.11", listing);
        Assert.DoesNotContain("198.51.100.12", listing);
        Assert.DoesNotContain("meta l4proto tcp accept", listing);
        Assert.True(net.TcpReachable(Extra, 443, AgentAndWorld.ExpectedThroughMs), "the restore dropped the added destination");
        Assert.True(net.TcpReachable(Control, 443, AgentAndWorld.ExpectedThroughMs));

        // Removed after the restore: the next restore does not bring it back.
        await live.RemoveDestinationAsync("control", IPNetwork.Parse(Extra + "/32"));
        await live.RestoreAsync([], []);
        Assert.DoesNotContain(Extra + " ", net.Agent.Nft("list table inet netlinkfence"));
        Assert.False(net.TcpReachable(Extra, 443, 700));
    }

    [Fact]
    public async Task After_a_reload_a_restore_puts_back_only_the_added_destinations_the_reload_kept()
    {
        using var net = World();
        var (live, nft) = await WithTwoAddedAsync(net);
        await using var _ = nft;

        string longer = LivePolicyTests.Yaml.Replace("window: 1m", "window: 2m");
        Assert.Equal(ReloadKind.Elements, (await live.ReloadAsync(await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(longer, "live.yaml"), new FixedResolver()))).Kind);
        string listing = net.Agent.Nft("list table inet netlinkfence");
        Assert.Contains(Extra + " . tcp . 443", listing);
        Assert.DoesNotContain("198.51.100.10", listing);

        net.Agent.Nft("add rule inet netlinkfence output meta l4proto tcp accept");
        await live.RestoreAsync([], []);
        listing = net.Agent.Nft("list table inet netlinkfence");
        output.WriteLine(listing);
        Assert.Matches(@"198\.51\.100\.9 \. tcp \. 443 [^,}]*timeout", listing);
        Assert.DoesNotContain("198.51.100.10", listing);
        Assert.DoesNotContain("meta l4proto tcp accept", listing);
    }
}
