using NetlinkFence.Cli;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>
/// Issue 11, "One way to name the table": the live-table verbs take <c>--policy</c> and act on its <c>table:</c>;
/// <c>--table</c> overrides; a verb never reports what it did not do.
/// </summary>
public sealed class PolicyTableTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nlf-policy-table-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Policy(string table)
    {
        string path = Path.Combine(_dir, $"{table}.yaml");
        File.WriteAllText(path, $"version: 1\ntable: {table}\negress:\n  allow:\n    - {{ name: web, to: [192.0.2.7], tcp: [443] }}\n");
        return path;
    }

    [Fact]
    public void Remove_without_the_table_says_nothing_was_removed_and_leaves_the_policy_table_alone()
    {
        using var ns = TestNamespace.Create();
        string hid = Policy("hid");
        Assert.Equal(0, CliRunner.Run($"apply {hid} --netns {ns.Name}").ExitCode);

        // The user's report: remove without naming the policy must not claim to have removed "netlinkfence".
        var wrong = CliRunner.Run($"remove --netns {ns.Name}");
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("there was no table inet netlinkfence; nothing to remove", wrong.Stderr);
        Assert.DoesNotContain("removed", wrong.Stdout);
        Assert.Contains("table inet hid", ns.Nft("list tables"));

        var shown = CliRunner.Run($"show --policy {hid} --netns {ns.Name}");
        Assert.True(shown.ExitCode == 0, shown.Stderr);
        Assert.Contains("table inet hid", shown.Stdout);
        var verified = CliRunner.Run($"verify --policy {hid} --netns {ns.Name}");
        Assert.True(verified.ExitCode == 0, verified.Stdout + verified.Stderr);

        var removed = CliRunner.Run($"remove --policy {hid} --netns {ns.Name}");
        Assert.True(removed.ExitCode == 0, removed.Stderr);
        Assert.Contains("removed table inet hid", removed.Stdout);
        Assert.DoesNotContain("hid", ns.Nft("list tables"));

        var again = CliRunner.Run($"remove --policy {hid} --netns {ns.Name}");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("there was no table inet hid; nothing to remove", again.Stderr);
    }

    [Fact]
    public void Table_overrides_the_policys_table()
    {
        using var ns = TestNamespace.Create();
        string hid = Policy("hid");
        Assert.Equal(0, CliRunner.Run($"apply {Policy("other")} --netns {ns.Name}").ExitCode);
        Assert.Equal(0, CliRunner.Run($"apply {hid} --netns {ns.Name}").ExitCode);
        var removed = CliRunner.Run($"remove --policy {hid} --table other --netns {ns.Name}");
        Assert.True(removed.ExitCode == 0, removed.Stderr);
        Assert.Contains("removed table inet other", removed.Stdout);
        string tables = ns.Nft("list tables");
        Assert.Contains("table inet hid", tables);
        Assert.DoesNotContain("other", tables);
    }

    [Fact]
    public void The_confirm_command_apply_prints_names_the_namespace_and_table_and_works_as_printed()
    {
        using var ns = TestNamespace.Create();
        var applied = CliRunner.Run($"apply {Policy("hid")} --netns {ns.Name} --confirm-within 120s");
        Assert.True(applied.ExitCode == 0, applied.Stderr);
        var printed = System.Text.RegularExpressions.Regex.Match(applied.Stdout + applied.Stderr, "run '(netlinkfence confirm[^']*)' within");
        Assert.True(printed.Success, applied.Stdout + applied.Stderr);
        Assert.Equal($"netlinkfence confirm --netns {ns.Name} --table hid", printed.Groups[1].Value);
        var confirmed = CliRunner.Run(printed.Groups[1].Value["netlinkfence ".Length..]);
        Assert.True(confirmed.ExitCode == 0, confirmed.Stderr);
        Assert.Contains("confirmed: table inet hid stays", confirmed.Stdout);
    }

    [Fact]
    public void Suggested_commands_quote_what_a_shell_would_split_and_name_a_table_only_where_the_verb_would_not_pick_it()
    {
        Assert.Equal("netlinkfence apply /etc/p.yaml --netns agent", SuggestedCommand.Of("apply", "agent", null, "/etc/p.yaml"));
        Assert.Equal("netlinkfence apply \"/tmp/my policy.yaml\" --netns \"a \\$b\"", SuggestedCommand.Of("apply", "a $b", null, "/tmp/my policy.yaml"));
        Assert.Equal("netlinkfence rollback --table hid", SuggestedCommand.Of("rollback", null, SuggestedCommand.TableUnlessDefault("hid")));
        Assert.Equal(File.Exists(PolicyTable.DefaultPolicyPath) ? "netlinkfence" : null, SuggestedCommand.TableUnlessDefault("netlinkfence"));
        // The default policy file is not named: the verb reads it anyway.
        Assert.Equal("netlinkfence close updates --policy p.yaml --netns agent", SuggestedCommand.OnPolicy("close", "p.yaml", "agent", null, "updates"));
        Assert.Equal("netlinkfence open updates", SuggestedCommand.OpenWindow("updates", PolicyTable.DefaultPolicyPath, null));
    }

    [Fact]
    public void A_closed_window_s_reason_ends_with_the_open_on_the_same_policy_and_namespace_and_other_reasons_are_unchanged()
    {
        var compiled = NetlinkFence.Tests.Faults.FaultPolicies.Compile("""
            version: 1
            egress:
              allow:
                - name: control
                  to: [203.0.113.50]
                  tcp: [443]
                - name: updates
                  to: [192.0.2.0/24]
                  tcp: [80]
                  window: 30m
            """, "w.yaml");
        string Reason(string address, ushort port) => SuggestedCommand.ReasonWithOpen(
            FlowExplainer.Explain(compiled, System.Net.Sockets.ProtocolType.Tcp, System.Net.IPAddress.Parse(address), port), "/srv/w.yaml", "agent");
        Assert.Equal("window entry 'updates' at w.yaml:7:7 allows 192.0.2.7 tcp/80 only while it is open (for at most 30m); closed, it is logged and dropped "
            + "by egress_denied; to open it: 'netlinkfence open updates --policy /srv/w.yaml --netns agent'", Reason("192.0.2.7", 80));
        Assert.Equal("allow entry 'control' at w.yaml:4:7", Reason("203.0.113.50", 443));
        Assert.Equal("no entry allows 192.0.2.7: logged and dropped by egress_denied", Reason("192.0.2.7", 81)); // not the window's port
    }

    [Fact]
    public void A_missing_policy_file_is_bad_input_not_a_fallback_to_the_default_table()
    {
        using var ns = TestNamespace.Create();
        var result = CliRunner.Run($"remove --policy {Path.Combine(_dir, "absent.yaml")} --netns {ns.Name}");
        Assert.Equal(2, result.ExitCode);
        Assert.DoesNotContain("removed", result.Stdout);
    }
}
