using System.Text.Json;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.Daemon;
using NetlinkFence.Tests.Live;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>
/// <c>apply --if-changed</c>, for a fleet's configuration management that applies on every run: on a table that already
/// matches, nothing is committed (the generation stays), so an open update window, the counters and an audit are not
/// wiped by a no-op; a changed policy is applied as usual.
/// </summary>
public sealed class ApplyIfChangedTests
{
    [Fact]
    public async Task A_matching_table_is_left_as_it_is_and_a_changed_policy_is_applied()
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(LivePolicyTests.Yaml);
        Assert.Equal(0, CliRunner.Run($"apply {policy} --netns {ns.Name}").ExitCode);
        var open = CliRunner.Run($"open updates --for 50s --policy {policy} --netns {ns.Name}");
        Assert.True(open.ExitCode == 0, open.Stderr);
        await using (var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name }))
            await AuditMode.StartAsync(nft, DaemonTests.Table, TimeSpan.FromMinutes(5));
        uint generation = await DaemonTests.ReadGenerationAsync(ns);

        var same = CliRunner.Run($"apply {policy} --netns {ns.Name} --if-changed");
        Assert.True(same.ExitCode == 0, same.Stderr + same.Stdout);
        Assert.StartsWith($"table inet {DaemonTests.Table} already matches {policy} (generation {generation}); nothing committed (--if-changed)", same.Stdout);
        Assert.Contains("AUDIT: !!! AUDIT MODE", same.Stdout);
        var json = CliRunner.Run($"apply {policy} --netns {ns.Name} --if-changed --output json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        var document = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.False(document.GetProperty("committed").GetBoolean());
        Assert.Equal(generation, document.GetProperty("generation").GetUInt32());
        Assert.Equal(0, document.GetProperty("changes").GetArrayLength());
        Assert.Equal(generation, await DaemonTests.ReadGenerationAsync(ns));
        Assert.Contains("updates: open", CliRunner.Run($"status --policy {policy} --netns {ns.Name}").Stdout);

        // A changed policy: applied as apply does (a replace, which closes the window and ends the audit).
        File.WriteAllText(policy, LivePolicyTests.Yaml.Replace("to: [api.ironclaw.example]", "to: [api.ironclaw.example, 192.0.2.9]"));
        var changed = CliRunner.Run($"apply {policy} --netns {ns.Name} --if-changed --output json");
        Assert.True(changed.ExitCode == 0, changed.Stderr);
        Assert.True(JsonDocument.Parse(changed.Stdout).RootElement.GetProperty("committed").GetBoolean());
        Assert.Contains("192.0.2.9", ns.Nft($"list set inet {DaemonTests.Table} allow_v4"));
        Assert.Contains("updates: closed", CliRunner.Run($"status --policy {policy} --netns {ns.Name}").Stdout);

        var both = CliRunner.Run($"apply {policy} --netns {ns.Name} --if-changed --confirm-within 30s");
        Assert.True(both.ExitCode == 2, both.Stderr);
        Assert.Contains("--if-changed and --confirm-within", both.Stderr);
        File.Delete(policy);
    }

    /// <summary>The self-test still runs on a table that matched; a failure says nothing was changed (there is nothing to undo).</summary>
    [Fact]
    public void The_self_test_runs_on_a_matching_table_too()
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(LivePolicyTests.Yaml);
        Assert.Equal(0, CliRunner.Run($"apply {policy} --netns {ns.Name}").ExitCode);
        string before = ns.Nft("list ruleset");
        // Nothing routes in this namespace: an allow flow's probe proves nothing, which fails the self-test.
        var failed = CliRunner.Run($"apply {policy} --netns {ns.Name} --if-changed --expect-allow 203.0.113.50:443");
        Assert.True(failed.ExitCode == 5, $"exit {failed.ExitCode}: {failed.Stdout} {failed.Stderr}");
        Assert.Contains($"self-test failed on table inet {DaemonTests.Table}, which already matched the policy: nothing was changed", failed.Stderr);
        Assert.Equal(before, ns.Nft("list ruleset"));
        File.Delete(policy);
    }
}
