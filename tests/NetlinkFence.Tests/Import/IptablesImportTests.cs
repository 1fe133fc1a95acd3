using System.Net;
using NetlinkFence.Policy;
using NetlinkFence.Policy.Import;
using static NetlinkFence.Tests.Import.ImportTestSupport;

namespace NetlinkFence.Tests.Import;

/// <summary>What the import makes of rulesets: entries, built-ins, refusals of what an allow-list cannot say, findings.</summary>
public sealed class IptablesImportTests
{
    private static readonly string[] Rulesets = ["seed-egress.rules", "management-input.rules", "multiport-chains.rules", "dual-stack.v4.rules"];

    private static Severity[] NoErrors(IEnumerable<PolicyDiagnostic> lint) => [.. lint.Select(d => d.Severity).Where(s => s == Severity.Error)];

    [Fact]
    public void The_seed_imports_to_the_golden_policy()
    {
        var result = ImportFile("seed-egress.rules", SeedDefines);
        string golden = PathOf("seed-egress.yaml");
        if (Environment.GetEnvironmentVariable("NLF_UPDATE_GOLDEN") == "1")
            File.WriteAllText(golden, result.Yaml);
        Assert.Equal(File.ReadAllText(golden), result.Yaml);
    }

    [Fact]
    public void The_seed_policy_keeps_its_variables_as_defines_and_allows_what_the_rules_allow()
    {
        var result = ImportFile("seed-egress.rules", SeedDefines);
        var policy = PolicyLoader.Load(result.Yaml, "seed-egress.yaml");
        Assert.Equal(result.Policy, policy);
        Assert.Contains("  IRONCLAW_IP: 203.0.113.50\n", result.Yaml);
        Assert.Contains("  REPO_IPS: [198.51.100.80, 198.51.100.81]\n", result.Yaml);
        Assert.Contains("to: [$IRONCLAW_IP]", result.Yaml);
        Assert.Contains("to: [$REPO_IPS]", result.Yaml);
        Assert.Equal("EGRESS-DENIED: ", policy.Log.Prefix);
        Assert.Null(policy.Log.RatePerSecond);
        var https = Assert.Single(policy.Egress, e => e.Tcp.SequenceEqual([new PortRange(443, 443)]));
        Assert.Equal(IPNetwork.Parse("203.0.113.50/32"), https.Peers.Single().Network);
        var dns = Assert.Single(policy.Egress, e => e.Udp.Count > 0);
        Assert.Equal([new PortRange(53, 53)], dns.Udp);
        Assert.Empty(dns.Tcp); // UDP only, as in the ruleset: resolvers would also open TCP 53
        Assert.Empty(policy.Resolvers);
        Assert.Empty(policy.Input);
        Assert.Equal(["dns-via-allow", "no-log-rate", "plaintext-http"], result.Lint.Select(d => d.Code).Order(StringComparer.Ordinal));
        Assert.Equal(["related-input-narrowed"], result.Notes.Select(n => n.Code));
    }

    [Theory]
    [InlineData("seed-egress.rules")]
    [InlineData("management-input.rules")]
    [InlineData("multiport-chains.rules")]
    [InlineData("dual-stack.v4.rules")]
    [InlineData("order-dependent.rules")]
    public void Every_rule_and_chain_line_is_accounted_for_in_the_output(string name)
    {
        var result = ImportFile(name, SeedDefines, partial: true, ipv6: name == "dual-stack.v4.rules" ? "dual-stack.v6.rules" : null);
        var files = name == "dual-stack.v4.rules" ? new[] { name, "dual-stack.v6.rules" } : [name];
        foreach (string file in files)
        {
            string[] lines = File.ReadAllLines(PathOf(file));
            for (int i = 0; i < lines.Length; i++)
            {
                if (lines[i].StartsWith("-A", StringComparison.Ordinal) || lines[i].StartsWith(':'))
                    Assert.Contains($"#   {file}:{i + 1}: ", result.Yaml);
            }
        }
    }

    [Theory]
    [InlineData("seed-egress.rules")]
    [InlineData("management-input.rules")]
    [InlineData("multiport-chains.rules")]
    [InlineData("dual-stack.v4.rules")]
    public void Imported_policies_load_and_lint_without_errors(string name)
    {
        // dual-stack.v6.rules accepts no neighbour discovery: refused without --partial (NeighbourDiscoveryImportTests).
        bool dual = name == "dual-stack.v4.rules";
        var result = ImportFile(name, name == "seed-egress.rules" ? SeedDefines : null, partial: dual, ipv6: dual ? "dual-stack.v6.rules" : null);
        Assert.Equal(result.Policy, PolicyLoader.Load(result.Yaml, "x.yaml"));
        Assert.Empty(NoErrors(PolicyLinter.Lint(result.Policy)));
        Assert.Equal(dual ? 1 : 0, result.NotImported.Count);
    }

    [Fact]
    public void Input_entries_from_a_network_udp_and_tcp_53_become_resolvers_and_the_limit_the_rate()
    {
        var result = ImportFile("management-input.rules");
        Assert.Equal(["ssh-from-management", "node-exporter"], result.Policy.Input.Select(e => e.Name));
        Assert.All(result.Policy.Input, e => Assert.Equal(IPNetwork.Parse("10.20.0.0/16"), e.Peers.Single().Network));
        Assert.Equal(IPNetwork.Parse("192.168.1.10/32"), result.Policy.Resolvers.Single().Network);
        Assert.Equal((5UL, 60UL), (result.Policy.Log.RatePerSecond!.Value, result.Policy.Log.RateUnitSeconds));
        Assert.Empty(result.Lint);
    }

    [Fact]
    public void User_chains_are_flattened_and_iptables_save_splits_are_joined()
    {
        var result = ImportFile("multiport-chains.rules");
        var web = Assert.Single(result.Policy.Egress, e => e.Name == "web-mirrors");
        Assert.Equal([IPNetwork.Parse("203.0.113.0/24"), IPNetwork.Parse("198.51.100.0/24")], web.Peers.Select(p => p.Network!.Value));
        Assert.Equal([new PortRange(80, 80), new PortRange(443, 443), new PortRange(8000, 8100)], web.Tcp);
        var ntp = Assert.Single(result.Policy.Egress, e => e.Udp.Count > 0);
        Assert.Equal("ntp-pool-it-s-fine", ntp.Name);
        Assert.Contains("# comment: ntp \"pool\" it's \\ fine", result.Yaml);
        // OUTPUT ends in REJECT: the policy rejects too (a program still fails at once), citing the line.
        Assert.Contains(result.Notes, n => n.Code == "reject-kept" && n.Location.Line == 15);
        Assert.Equal(DenyAction.Reject, result.Policy.EgressDeny);
        Assert.Contains("  # multiport-chains.rules:15: -A OUTPUT -j REJECT --reject-with icmp-port-unreachable\n  deny: reject\n", result.Yaml);
    }

    [Fact]
    public void A_reject_in_an_output_chain_that_drops_becomes_a_drop_and_says_how_to_keep_the_fast_refusal()
    {
        var result = ImportText(Filter("-A OUTPUT -d 10.0.0.0/8 -j REJECT\n-A OUTPUT -d 203.0.113.50 -p tcp --dport 443 -j ACCEPT"));
        Assert.Equal(DenyAction.Drop, result.Policy.EgressDeny);
        var note = Assert.Single(result.Notes, n => n.Code == "reject-as-drop");
        Assert.Equal(FirstRuleLine, note.Location.Line);
        Assert.Contains("add 'deny: reject' under 'egress:'", note.Fix);
        Assert.DoesNotContain("deny:", result.Yaml.Split("\n# ")[0]);

        // The same chain ending in REJECT: every REJECT of it stays a reject, no drop note.
        var ending = ImportText(Filter("-A OUTPUT -d 10.0.0.0/8 -j REJECT\n-A OUTPUT -d 203.0.113.50 -p tcp --dport 443 -j ACCEPT\n-A OUTPUT -j REJECT"));
        Assert.Equal(DenyAction.Reject, ending.Policy.EgressDeny);
        Assert.DoesNotContain(ending.Notes, n => n.Code == "reject-as-drop");
        // An input REJECT is a drop whatever OUTPUT does: the policy's input denial is always a drop.
        var input = ImportText(Filter("-A INPUT -s 10.0.0.0/8 -j REJECT\n-A OUTPUT -d 203.0.113.50 -p tcp --dport 443 -j ACCEPT\n-A OUTPUT -j REJECT"));
        Assert.Contains(input.Notes, n => n.Code == "reject-as-drop" && n.Message.Contains("input denial is always a drop"));
    }

    [Fact]
    public void An_ipv4_file_that_rejects_with_an_ipv6_file_that_drops_keeps_the_drop_and_warns()
    {
        var result = IptablesImporter.Import(new IptablesImportRequest
        {
            IPv4 = new IptablesSource("r.rules", Filter("-A OUTPUT -d 203.0.113.50 -p tcp --dport 443 -j ACCEPT\n-A OUTPUT -j REJECT")),
            IPv6 = new IptablesSource("r6.rules", Filter("-A OUTPUT -d 2001:db8::50 -p tcp --dport 443 -j ACCEPT")
                .Replace("COMMIT", "-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT\n-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j ACCEPT\n"
                    + "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl --hl-eq 255 -j ACCEPT\n-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -m hl --hl-eq 255 -j ACCEPT\nCOMMIT")),
            PolicyName = "r.yaml",
            Partial = true,
        });
        Assert.Equal(DenyAction.Drop, result.Policy.EgressDeny);
        var warning = Assert.Single(result.Notes, n => n.Code == "reject-as-drop");
        Assert.Equal((Severity.Warning, "r.rules", FirstRuleLine + 1), (warning.Severity, warning.Location.File, warning.Location.Line));
    }

    [Fact]
    public void The_ipv6_file_joins_entries_with_the_same_comment()
    {
        var result = ImportFile("dual-stack.v4.rules", partial: true, ipv6: "dual-stack.v6.rules");
        var ssh = Assert.Single(result.Policy.Input);
        Assert.Equal([IPNetwork.Parse("10.20.0.0/16"), IPNetwork.Parse("2001:db8:20::/48")], ssh.Peers.Select(p => p.Network!.Value));
        var ironclaw = Assert.Single(result.Policy.Egress);
        Assert.Equal([IPNetwork.Parse("203.0.113.50/32"), IPNetwork.Parse("2001:db8::50/128")], ironclaw.Peers.Select(p => p.Network!.Value));
        Assert.DoesNotContain("No --ip6 file", result.Yaml);
    }

    [Fact]
    public void What_an_allow_list_cannot_say_fails_with_every_line_and_why()
    {
        var e = Assert.Throws<PolicyException>(() => ImportFile("order-dependent.rules"));
        Assert.All(e.Diagnostics, d => Assert.Equal("unsupported-rule", d.Code));
        Assert.Equal([8, 12, 19, 20, 21, 24, 25], e.Diagnostics.Select(d => d.Location.Line));
        Assert.Contains("nat table", e.Diagnostics[0].Message);
        Assert.Contains("FORWARD's policy is ACCEPT", e.Diagnostics[1].Message);
        Assert.Contains("line 20", e.Diagnostics[2].Message);
        Assert.Contains("line 19", e.Diagnostics[3].Message);
        Assert.Contains("ICMP", e.Diagnostics[4].Message);
        Assert.Contains("RETURN", e.Diagnostics[5].Message);
    }

    [Fact]
    public void Partial_imports_the_rest_and_keeps_the_refused_lines_as_comments()
    {
        var result = ImportFile("order-dependent.rules", partial: true);
        Assert.Equal(7, result.NotImported.Count);
        var only = Assert.Single(result.Policy.Egress);
        Assert.Equal([new PortRange(6514, 6514)], only.Tcp);
        Assert.Contains("# NOT IMPORTED (--partial)", result.Yaml);
        Assert.Contains("#   order-dependent.rules:20: NOT IMPORTED", result.Yaml);
        Assert.Equal(result.Policy, PolicyLoader.Load(result.Yaml, "x.yaml"));
    }

    [Fact]
    public void Output_policy_accept_is_not_an_allow_list_unless_a_final_drop_ends_the_chain()
    {
        string accept = Filter("-A OUTPUT -d 203.0.113.50 -p tcp --dport 443 -j ACCEPT").Replace(":OUTPUT DROP", ":OUTPUT ACCEPT");
        var d = Assert.Single(Fails(accept).Diagnostics);
        Assert.Equal(new SourceLocation("r.rules", 4, 1), d.Location);
        Assert.Contains("not an allow-list", d.Message);
        var ended = ImportText(accept.Replace("COMMIT", "-A OUTPUT -j DROP\nCOMMIT"));
        Assert.Single(ended.Policy.Egress);
        Assert.Contains("policy ACCEPT never applies", ended.Yaml);
    }

    [Fact]
    public void A_drop_that_no_later_accept_overlaps_is_just_a_deny()
    {
        var result = ImportText(Filter("-A OUTPUT -d 10.0.0.0/8 -j DROP\n-A OUTPUT -m conntrack --ctstate INVALID -j DROP\n-A OUTPUT -d 203.0.113.50 -p tcp --dport 443 -j ACCEPT"));
        Assert.Single(result.Policy.Egress);
        Assert.Contains($"#   r.rules:{FirstRuleLine}: denied", result.Yaml);
    }

    [Fact]
    public void A_drop_of_established_traffic_before_the_established_rule_is_refused()
    {
        string rules = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
            + "-A OUTPUT -o lo -j ACCEPT\n-A OUTPUT -d 10.0.0.0/8 -j DROP\n-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\nCOMMIT\n";
        var e = Fails(rules);
        Assert.Contains(e.Diagnostics, d => d.Location.Line == 8 && d.Message.Contains("line 9"));
    }

    [Fact]
    public void Missing_loopback_or_established_rules_are_refused_because_the_policy_would_allow_more()
    {
        var e = Fails("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n-A OUTPUT -d 203.0.113.50 -p tcp --dport 443 -j ACCEPT\nCOMMIT\n");
        Assert.Contains(e.Diagnostics, d => d.Message.Contains("loopback") && d.Location.Line == 4);
        Assert.Contains(e.Diagnostics, d => d.Message.Contains("ESTABLISHED") && d.Location.Line == 4);
        Assert.Contains(e.Diagnostics, d => d.Message.Contains("loopback") && d.Location.Line == 2);
        Assert.Contains(e.Diagnostics, d => d.Message.Contains("RELATED ICMP errors") && d.Location.Line == 2);
    }

    [Theory]
    [InlineData("-A OUTPUT -d 203.0.113.50 -j ACCEPT", "every protocol")]
    [InlineData("-A OUTPUT -p tcp --sport 1024:65535 --dport 443 -j ACCEPT", "source port")]
    [InlineData("-A OUTPUT -o eth0 -p tcp --dport 443 -j ACCEPT", "interface")]
    [InlineData("-A OUTPUT -p tcp -m tcp ! --dport 443 -j ACCEPT", "negated")]
    [InlineData("-A OUTPUT -p tcp -m owner --gid-owner 100 -d 203.0.113.50 -j ACCEPT", "--gid-owner")]
    [InlineData("-A OUTPUT -p tcp -m owner ! --uid-owner 1000 -d 203.0.113.50 -j ACCEPT", "negated")]
    [InlineData("-A OUTPUT -p tcp -m owner --uid-owner 1000-1005 -d 203.0.113.50 -j ACCEPT", "a range of users")]
    [InlineData("-A INPUT -p tcp -m owner --uid-owner 1000 --dport 22 -j ACCEPT", "-m owner on INPUT")]
    [InlineData("-A OUTPUT -p tcp --dport 443 -m limit --limit 1/sec -j ACCEPT", "rate-limited")]
    [InlineData("-A OUTPUT -s 10.0.0.5 -p tcp --dport 443 -j ACCEPT", "source address")]
    [InlineData("-A OUTPUT -p tcp --dport 443 -j NFQUEUE", "NFQUEUE")]
    [InlineData("-A FORWARD -p tcp --dport 443 -j ACCEPT", "FORWARD")]
    [InlineData("-A OUTPUT -p tcp -m iprange --dst-range 10.0.0.9-10.0.0.1 --dport 443 -j ACCEPT", "reversed: iptables loads it and it never matches")]
    [InlineData("-A OUTPUT -p tcp -d 10.1.0.0/16 -m iprange --dst-range 10.0.0.1-10.1.0.5 --dport 443 -j ACCEPT", "match only where they overlap")]
    [InlineData("-A OUTPUT -p tcp -m iprange ! --dst-range 10.0.0.1-10.0.0.5 --dport 443 -j ACCEPT", "negated")]
    public void Accepts_a_policy_cannot_express_are_refused_with_the_reason(string rule, string reason)
    {
        var d = Assert.Single(Fails(Filter(rule)).Diagnostics);
        Assert.Equal(FirstRuleLine, d.Location.Line);
        Assert.Equal("unsupported-rule", d.Code);
        Assert.Contains(reason, d.Message);
    }

    [Fact]
    public void An_owner_match_becomes_the_entry_s_by_and_keeps_its_entries_apart()
    {
        var result = ImportText(Filter(
            "-A OUTPUT -p tcp -d 203.0.113.50 --dport 443 -m owner --uid-owner 1000 -m comment --comment platform -j ACCEPT\n"
            + "-A OUTPUT -p tcp -d 203.0.113.51 --dport 443 -m owner --uid-owner _apt -m comment --comment platform -j ACCEPT\n"
            + "-A OUTPUT -p tcp -d 203.0.113.52 --dport 443 -m owner --uid-owner 1001-1001 -m comment --comment platform -j ACCEPT\n"
            + "-A OUTPUT -p tcp -d 203.0.113.53 --dport 443 -m comment --comment platform -j ACCEPT\n"
            // DNS of one user's: an entry with by:, not one of the resolvers every process may use.
            + "-A OUTPUT -p udp -d 192.168.1.10 --dport 53 -m owner --uid-owner 1000 -j ACCEPT\n"
            + "-A OUTPUT -p tcp -d 192.168.1.10 --dport 53 -m owner --uid-owner 1000 -j ACCEPT"));
        Assert.Contains("      by: { uid: 1000 }\n", result.Yaml);
        Assert.Contains("      by: { user: _apt }\n", result.Yaml);
        Assert.Contains("      by: { uid: 1001 }\n", result.Yaml);
        Assert.Empty(result.Policy.Resolvers);
        var byPeer = result.Policy.Egress.ToDictionary(e => e.Peers[0].Text);
        Assert.Equal(5, result.Policy.Egress.Count); // same comment, same ports: merged only where the owner is the same too
        Assert.Equal(new ServiceScope(ServiceScopeKind.Uid, "1000"), Assert.Single(byPeer["203.0.113.50"].By));
        Assert.Equal(new ServiceScope(ServiceScopeKind.User, "_apt"), Assert.Single(byPeer["203.0.113.51"].By));
        Assert.Equal(new ServiceScope(ServiceScopeKind.Uid, "1001"), Assert.Single(byPeer["203.0.113.52"].By));
        Assert.Empty(byPeer["203.0.113.53"].By);
        Assert.Equal(new ServiceScope(ServiceScopeKind.Uid, "1000"), Assert.Single(byPeer["192.168.1.10"].By));
        Assert.Equal(new PortRange(53, 53), Assert.Single(byPeer["192.168.1.10"].Udp));
        Assert.Equal(new PortRange(53, 53), Assert.Single(byPeer["192.168.1.10"].Tcp));
    }

    [Fact]
    public void A_drop_for_another_uid_does_not_shadow_an_owner_accept_but_one_for_the_same_uid_or_everyone_does()
    {
        var clear = ImportText(Filter("-A OUTPUT -p tcp -d 203.0.113.50 -m owner --uid-owner 1001 -j DROP\n"
            + "-A OUTPUT -p tcp -d 203.0.113.50 --dport 443 -m owner --uid-owner 1000 -j ACCEPT"));
        Assert.Equal(new ServiceScope(ServiceScopeKind.Uid, "1000"), Assert.Single(Assert.Single(clear.Policy.Egress).By));

        var e = Fails(Filter("-A OUTPUT -p tcp -d 203.0.113.50 -m owner --uid-owner 1000 -j DROP\n-A OUTPUT -p tcp -d 203.0.113.50 --dport 443 -m owner --uid-owner 1000 -j ACCEPT"));
        Assert.Contains(e.Diagnostics, d => d.Location.Line == FirstRuleLine && d.Message.Contains("takes away part of what that line accepts"));
        // Everyone's drop of the address takes all of it: the accept allows nothing (ExceptionImportTests).
        var none = ImportText(Filter("-A OUTPUT -p tcp -d 203.0.113.50 -j DROP\n-A OUTPUT -p tcp -d 203.0.113.50 --dport 443 -m owner --uid-owner 1000 -j ACCEPT"));
        Assert.Empty(none.Policy.Egress);
        // An accept for everyone after a drop of one user's: the policy cannot except that user.
        var except = Fails(Filter("-A OUTPUT -p tcp -d 203.0.113.50 -m owner --uid-owner 1000 -j DROP\n-A OUTPUT -p tcp -d 203.0.113.50 --dport 443 -j ACCEPT"));
        Assert.Contains(except.Diagnostics, d => d.Location.Line == FirstRuleLine);
    }

    [Fact]
    public void Owners_of_a_jump_and_of_its_chain_s_rule_are_joined()
    {
        string chain = ":AGENT - [0:0]\n";
        var same = ImportText(Filter(chain + "-A OUTPUT -m owner --uid-owner 1000 -j AGENT\n-A AGENT -p tcp -d 203.0.113.50 --dport 443 -j ACCEPT"));
        Assert.Equal(new ServiceScope(ServiceScopeKind.Uid, "1000"), Assert.Single(Assert.Single(same.Policy.Egress).By));
        // Two different uids: no socket has both, the rule matches nothing.
        var never = ImportText(Filter(chain + "-A OUTPUT -m owner --uid-owner 1000 -j AGENT\n-A AGENT -p tcp -d 203.0.113.50 --dport 443 -m owner --uid-owner 1001 -j ACCEPT"));
        Assert.Empty(never.Policy.Egress);
        Assert.Contains("different owners", never.Yaml);
        // A uid and a name may be one user: not guessed.
        var e = Fails(Filter(chain + "-A OUTPUT -m owner --uid-owner 1000 -j AGENT\n-A AGENT -p tcp -d 203.0.113.50 --dport 443 -m owner --uid-owner alice -j ACCEPT"));
        Assert.Contains(e.Diagnostics, d => d.Message.Contains("one a uid, one a name"));
    }

    [Theory]
    [InlineData("-A OUTPUT -p tcp -m owner --uid-owner 1000 -j ACCEPT", "--uid-owner needs '-m owner'")]
    [InlineData("-A OUTPUT -p tcp -m owner --uid-owner 'no such' -j ACCEPT", "neither a uid nor a user name")]
    public void A_bad_owner_match_is_a_located_error(string rule, string message)
    {
        rule = rule.Replace("-m owner --uid-owner 1000", "--uid-owner 1000").Replace('\'', '"');
        var d = Assert.Single(Fails(Filter(rule)).Diagnostics);
        Assert.Equal(FirstRuleLine, d.Location.Line);
        Assert.Contains(message, d.Message);
    }

    [Fact]
    public void Dns_to_any_address_is_imported_faithfully_and_reported_by_lint()
    {
        var result = ImportText(Filter("-A OUTPUT -p udp --dport 53 -j ACCEPT\n-A OUTPUT -j LOG --log-prefix \"EGRESS-DENIED: \""));
        var entry = Assert.Single(result.Policy.Egress);
        Assert.Equal(IPNetwork.Parse("0.0.0.0/0"), entry.Peers.Single().Network);
        Assert.Contains(result.Lint, d => d.Code == "dns-to-any" && d.Severity == Severity.Error);
        Assert.Contains(result.Lint, d => d.Code == "no-log-rate");
        Assert.Contains("# lint (netlinkfence lint on this policy):", result.Yaml);
        Assert.Contains("[dns-to-any]", result.Yaml);
    }

    [Fact]
    public void Input_from_anywhere_stays_ipv4_only_and_ssh_to_any_is_a_lint_error()
    {
        var result = ImportText(Filter("-A INPUT -p tcp --dport 22 -j ACCEPT"));
        Assert.Equal(IPNetwork.Parse("0.0.0.0/0"), Assert.Single(result.Policy.Input).Peers.Single().Network);
        Assert.Contains(result.Lint, d => d.Code == "ssh-open-to-any");
    }

    [Fact]
    public void Port_variables_become_defines_in_policy_syntax()
    {
        var result = ImportText(Filter("-A INPUT -s $MGMT -p tcp -m multiport --dports $PORTS,9100 -j ACCEPT"),
            new Dictionary<string, string> { ["MGMT"] = "10.20.0.0/16", ["PORTS"] = "8000:8100" });
        Assert.Contains("  PORTS: 8000-8100\n", result.Yaml);
        Assert.Contains("from: [$MGMT]", result.Yaml);
        Assert.Contains("tcp: [$PORTS, 9100]", result.Yaml);
        Assert.Equal([new PortRange(8000, 8100), new PortRange(9100, 9100)], result.Policy.Input.Single().Tcp);
    }

    [Fact]
    public void An_iprange_stays_a_range_of_the_fewest_networks_that_hold_exactly_its_addresses()
    {
        var result = ImportText(Filter("-A OUTPUT -p tcp -m iprange --dst-range 198.51.100.8-198.51.100.20 --dport 443 -j ACCEPT\n"
            + "-A OUTPUT -p udp -m iprange --dst-range 203.0.113.7 --dport 123 -j ACCEPT\n"
            + "-A INPUT -p tcp -m iprange --src-range 10.20.0.0-10.20.255.255 --dport 22 -j ACCEPT"));
        var https = Assert.Single(result.Policy.Egress, e => e.Tcp.Count > 0);
        Assert.Equal(["198.51.100.8/29", "198.51.100.16/30", "198.51.100.20/32"], https.Peers.Select(p => p.Network.ToString()));
        Assert.Contains("to: [198.51.100.8-198.51.100.20]", result.Yaml); // as written; one network is written as that network
        Assert.Contains("from: [10.20.0.0/16]", result.Yaml);
        Assert.Equal("203.0.113.7/32", Assert.Single(Assert.Single(result.Policy.Egress, e => e.Udp.Count > 0).Peers).Network.ToString());
        Assert.Equal("10.20.0.0/16", Assert.Single(Assert.Single(result.Policy.Input).Peers).Network.ToString());
    }

    [Fact]
    public void An_ipv6_iprange_is_written_quoted_and_reads_back_as_its_networks()
    {
        const string nd = "-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT\n-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j ACCEPT\n"
            + "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl --hl-eq 255 -j ACCEPT\n-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -m hl --hl-eq 255 -j ACCEPT\n";
        var result = IptablesImporter.Import(new IptablesImportRequest
        {
            IPv4 = new IptablesSource("r.rules", Filter("")),
            IPv6 = new IptablesSource("r6.rules", Filter(nd + "-A OUTPUT -p tcp -m iprange --dst-range 2001:db8::1-2001:db8::7 --dport 443 -j ACCEPT\n")),
            Defines = new Dictionary<string, string>(),
            PolicyName = "r.yaml",
        });
        Assert.Contains("to: [\"2001:db8::1-2001:db8::7\"]", result.Yaml);
        Assert.Equal(["2001:db8::1/128", "2001:db8::2/127", "2001:db8::4/126"], Assert.Single(result.Policy.Egress).Peers.Select(p => p.Network.ToString()));
    }

    [Theory]
    [InlineData("0.0.0.0-255.255.255.255", "0.0.0.0/0")]
    [InlineData("0.0.0.1-255.255.255.254", "0.0.0.1/32 0.0.0.2/31 0.0.0.4/30 0.0.0.8/29 0.0.0.16/28 0.0.0.32/27 0.0.0.64/26 0.0.0.128/25 0.0.1.0/24 0.0.2.0/23 0.0.4.0/22 0.0.8.0/21 0.0.16.0/20 0.0.32.0/19 0.0.64.0/18 0.0.128.0/17 0.1.0.0/16 0.2.0.0/15 0.4.0.0/14 0.8.0.0/13 0.16.0.0/12 0.32.0.0/11 0.64.0.0/10 0.128.0.0/9 1.0.0.0/8 2.0.0.0/7 4.0.0.0/6 8.0.0.0/5 16.0.0.0/4 32.0.0.0/3 64.0.0.0/2 128.0.0.0/2 192.0.0.0/3 224.0.0.0/4 240.0.0.0/5 248.0.0.0/6 252.0.0.0/7 254.0.0.0/8 255.0.0.0/9 255.128.0.0/10 255.192.0.0/11 255.224.0.0/12 255.240.0.0/13 255.248.0.0/14 255.252.0.0/15 255.254.0.0/16 255.255.0.0/17 255.255.128.0/18 255.255.192.0/19 255.255.224.0/20 255.255.240.0/21 255.255.248.0/22 255.255.252.0/23 255.255.254.0/24 255.255.255.0/25 255.255.255.128/26 255.255.255.192/27 255.255.255.224/28 255.255.255.240/29 255.255.255.248/30 255.255.255.252/31 255.255.255.254/32")]
    [InlineData("255.255.255.255-255.255.255.255", "255.255.255.255/32")]
    [InlineData("10.0.0.0-10.0.1.0", "10.0.0.0/24 10.0.1.0/32")]
    public void An_address_range_is_covered_exactly(string range, string expected)
    {
        var networks = IptablesValues.AddressRange(range, ipv6: false, out string? error)!;
        Assert.Null(error);
        Assert.Equal(expected, string.Join(" ", networks.Select(n => n.ToString())));
    }

    [Fact]
    public void An_ipv6_range_is_covered_exactly_and_a_range_of_the_other_family_is_refused()
    {
        var all = IptablesValues.AddressRange("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ipv6: true, out _)!;
        Assert.Equal("::/0", Assert.Single(all).ToString());
        var some = NetlinkFence.Policy.Import.IptablesValues.AddressRange("2001:db8::50-2001:db8::53", ipv6: true, out _)!;
        Assert.Equal(["2001:db8::50/126"], some.Select(n => n.ToString()));
        Assert.Null(NetlinkFence.Policy.Import.IptablesValues.AddressRange("10.0.0.1-10.0.0.5", ipv6: true, out string? error));
        Assert.Contains("IPv4 address in an ip6tables file", error);
        Assert.Null(NetlinkFence.Policy.Import.IptablesValues.AddressRange("10.0.0.0/24-10.0.1.0/24", ipv6: false, out error));
        Assert.Contains("not a range of addresses", error);
        var d = Assert.Single(Fails(Filter("-A OUTPUT -p tcp -m iprange --dst-range 10.0.0.1-10.0.0.x --dport 443 -j ACCEPT")).Diagnostics);
        Assert.Equal((FirstRuleLine, "iptables-bad-value"), (d.Location.Line, d.Code));
        d = Assert.Single(Fails(Filter("-A OUTPUT -p tcp --dst-range 10.0.0.1-10.0.0.5 --dport 443 -j ACCEPT")).Diagnostics);
        Assert.Contains("needs '-m iprange' before it", d.Message);
    }

    [Fact]
    public void Counters_written_by_iptables_save_c_are_read()
    {
        var result = ImportText("*filter\n:INPUT DROP [10:600]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [3:180]\n[5:300] -A INPUT -i lo -j ACCEPT\n[1:60] -A INPUT -m state --state ESTABLISHED -m state --state ESTABLISHED,RELATED -j ACCEPT\n"
            + "[5:300] -A OUTPUT -o lo -j ACCEPT\n[0:0] -A OUTPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n[2:120] -A OUTPUT -d 203.0.113.50/32 -p tcp -m tcp --dport 443 -j ACCEPT\nCOMMIT\n", partial: true);
        Assert.Single(result.Policy.Egress);
    }

    [Fact]
    public void A_log_rule_before_accepts_is_a_note_not_a_failure()
    {
        var result = ImportText(Filter("-A OUTPUT -j LOG --log-prefix \"OUT: \"\n-A OUTPUT -d 203.0.113.50 -p tcp --dport 443 -j ACCEPT"));
        Assert.Contains(result.Notes, n => n.Code == "log-before-accept");
        Assert.Equal("OUT: ", result.Policy.Log.Prefix);
    }

    [Fact]
    public void The_log_rule_that_logs_only_drops_gives_the_prefix_over_an_earlier_audit_of_new_connections()
    {
        // ufw's `logging medium`: "[UFW AUDIT] " logs new connections before they are accepted, "[UFW BLOCK] " what is dropped.
        var result = ImportText(Filter("-A OUTPUT -m conntrack --ctstate NEW -j LOG --log-prefix \"AUDIT: \"\n"
            + "-A OUTPUT -d 203.0.113.50 -p tcp --dport 443 -j ACCEPT\n-A OUTPUT -j LOG --log-prefix \"BLOCK: \""));
        Assert.Equal("BLOCK: ", result.Policy.Log.Prefix);
        var audit = Assert.Single(result.Notes, n => n.Code == "log-before-accept");
        Assert.Equal(FirstRuleLine, audit.Location.Line);
        Assert.Contains("logs packets that line 10 then accepts (an audit of allowed traffic); the policy logs only what it drops, with line 11's settings", audit.Message);
    }

    [Fact]
    public void A_second_loopback_accept_after_a_drop_is_never_reached_not_shadowed()
    {
        // ufw's `allow out on lo` comes after its own `-o lo -j ACCEPT` (Filter's line 7) and after the user's denies.
        var result = ImportText(Filter("-A OUTPUT -d 203.0.113.9 -j DROP\n-A OUTPUT -o lo -j ACCEPT"));
        Assert.Empty(result.NotImported);
        Assert.Contains("r.rules:10: no effect (never reached: line 7 before it accepts all loopback traffic)", result.Yaml);
    }
}
