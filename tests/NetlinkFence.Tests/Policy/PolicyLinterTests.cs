using System.Net;
using NetlinkFence.Policy;
using static NetlinkFence.Tests.Policy.PolicyTestSupport;

namespace NetlinkFence.Tests.Policy;

/// <summary>
/// One test per lint finding (code, severity, location of the offending node), and the shipped example.
/// Decision: the example is the seed's recommended setup, so it must lint completely clean (no findings at
/// all, not even info): resolvers named, the control plane pinned, syslog over TLS, log prefix with a rate.
/// </summary>
public sealed class PolicyLinterTests
{
    /// <summary>A baseline that is clean; tests add one weakness at a time.</summary>
    private const string CleanHead = """
        version: 1
        log:
          prefix: "EGRESS-DENIED: "
          rate: 10/second
        hosts:
          api.example: [203.0.113.50]

        """;

    private const string CleanControl = "    - { name: control, to: [api.example], tcp: [443] }\n";

    private static IReadOnlyList<PolicyDiagnostic> Lint(string yaml) => PolicyLinter.Lint(PolicyLoader.Load(yaml, FileName));

    /// <summary>Asserts exactly one finding with <paramref name="code"/>, at the given token, and returns it.</summary>
    private static PolicyDiagnostic Finding(string yaml, string code, Severity severity, string token, int nth = 1)
    {
        var findings = Lint(yaml);
        var finding = Assert.Single(findings, f => f.Code == code);
        Assert.Equal(severity, finding.Severity);
        var (line, column) = Pos(yaml, token, nth);
        Assert.Equal(new SourceLocation(FileName, line, column), finding.Location);
        Assert.False(string.IsNullOrWhiteSpace(finding.Message));
        Assert.False(string.IsNullOrWhiteSpace(finding.Fix));
        return finding;
    }

    private static string Egress(string entries, string dns = "") =>
        CleanHead + "egress:\n" + (dns.Length > 0 ? $"  dns:\n    resolvers: {dns}\n" : "") + "  allow:\n" + CleanControl + entries;

    [Fact]
    public void The_example_is_clean()
    {
        Assert.Empty(PolicyLinter.Lint(PolicyLoader.LoadFile(ExamplePath)));
    }

    /// <summary>
    /// A value written twice in one list is allowed once (the reader drops the copy), and lint says so at the copy: it is
    /// often a slip for another value, which then is not allowed. Values a variable brings may overlap on purpose.
    /// </summary>
    [Fact]
    public void A_value_written_twice_in_one_list_is_a_repeated_value_warning_at_the_copy()
    {
        string yaml = Egress("    - { name: mirrors, to: [198.51.100.7, 198.51.100.8, 198.51.100.7], tcp: [443] }\n", dns: "[192.168.1.10]");
        var destination = Finding(yaml, "repeated-value", Severity.Warning, "198.51.100.7", nth: 2);
        var (line, column) = Pos(yaml, "198.51.100.7");
        Assert.Equal($"'198.51.100.7' is written twice in egress.allow[2].to (first at {FileName}:{line}:{column})", destination.Message);
        Assert.Single(PolicyLoader.Load(yaml, FileName).Egress[1].Peers, p => p.Text == "198.51.100.7");

        string ports = Egress("    - { name: web, to: [198.51.100.7], tcp: [443, 8443, 443] }\n", dns: "[192.168.1.10]");
        var (portLine, portColumn) = Pos(ports, "443, 8443");
        Assert.Equal($"port '443' is written twice in egress.allow[2].tcp (first at {FileName}:{portLine}:{portColumn})",
            Finding(ports, "repeated-value", Severity.Warning, "443]", nth: 2).Message);

        string variables = "define:\n  a: [198.51.100.7]\n  b: [198.51.100.7, 198.51.100.9]\n  web: [443]\n"
            + Egress("    - { name: both, to: [$a, $b, 198.51.100.9], tcp: [$web, 443] }\n", dns: "[192.168.1.10]");
        Assert.DoesNotContain(Lint(variables), f => f.Code == "repeated-value");
    }

    [Fact]
    public void The_baseline_used_by_these_tests_is_clean()
    {
        Assert.Empty(Lint(Egress("", dns: "[192.168.1.10]")));
    }

    [Fact]
    public void Dns_resolver_any_address()
    {
        string yaml = Egress("", dns: "[0.0.0.0/0]");
        var f = Finding(yaml, "dns-to-any", Severity.Error, "0.0.0.0/0");
        Assert.Contains("tunnel", f.Message);
    }

    [Fact]
    public void Dns_port_to_any_address_in_an_allow_entry()
    {
        string yaml = Egress("    - { name: dns, to: [\"::/0\"], udp: [53] }\n");
        Finding(yaml, "dns-to-any", Severity.Error, "{ name: dns");
        Finding(yaml, "allow-any-destination", Severity.Error, "\"::/0\""); // a quoted node starts at its quote
    }

    [Fact]
    public void Dns_port_outside_the_resolvers_section()
    {
        Finding(Egress("    - { name: dns, to: [192.168.1.10], udp: [53] }\n"), "dns-via-allow", Severity.Warning, "{ name: dns");
    }

    [Fact]
    public void Allow_to_any_destination()
    {
        var f = Finding(Egress("    - { name: web, to: [0.0.0.0/0], tcp: [443] }\n"), "allow-any-destination", Severity.Error, "0.0.0.0/0");
        Assert.Contains("tcp 443", f.Message);
    }

    [Theory]
    [InlineData("[0.0.0.0/1, 128.0.0.0/1]", "'web' allows every IPv4 address on tcp 443: its destinations together")]
    [InlineData("[0.0.0.0-255.255.255.255]", "'web' allows 0.0.0.0-255.255.255.255: every address")] // a range of them all is the /0 itself
    [InlineData("[0.0.0.0-127.255.255.255, 128.0.0.0/2, 192.0.0.0-255.255.255.255]", "'web' allows every IPv4 address")]
    [InlineData("[\"::/1\", \"8000::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\", 203.0.113.7]", "'web' allows every IPv6 address")]
    public void Destinations_that_together_hold_every_address_are_an_allow_to_any(string to, string message)
    {
        string yaml = Egress($"    - {{ name: web, to: {to}, tcp: [443] }}\n");
        var f = Assert.Single(Lint(yaml), f => f.Code == "allow-any-destination");
        Assert.Equal(Severity.Error, f.Severity);
        Assert.StartsWith(message, f.Message);
    }

    [Theory]
    [InlineData("[0.0.0.0/1, 128.0.0.0/2, 224.0.0.0/3]")] // 192.0.0.0/3 left out
    [InlineData("[0.0.0.0-255.255.255.254]")] // all but the last address
    [InlineData("[0.0.0.0-10.0.0.0, 10.0.0.2-255.255.255.255]")] // all but 10.0.0.1
    [InlineData("[128.0.0.0/1, 10.0.0.0/8]")] // nothing below 10.0.0.0
    [InlineData("[0.0.0.0/1, \"8000::/1\"]")] // halves of two families
    public void Destinations_that_leave_an_address_out_are_not_an_allow_to_any(string to)
    {
        var findings = Lint(Egress($"    - {{ name: web, to: {to}, tcp: [443] }}\n"));
        Assert.DoesNotContain(findings, f => f.Code == "allow-any-destination");
        Assert.Contains(findings, f => f.Code == "broad-cidr");
    }

    [Fact]
    public void A_range_is_named_as_written_and_reported_once()
    {
        // Read as 0.0.0.0/1 and 128.0.0.0/2, each broader than a /16: one finding, naming the range.
        var f = Finding(Egress("    - { name: web, to: [0.0.0.0-191.255.255.255], tcp: [443] }\n"), "broad-cidr", Severity.Warning, "0.0.0.0-191");
        Assert.StartsWith("'web' allows 0.0.0.0-191.255.255.255, a network of more than a /16", f.Message);
    }

    [Fact]
    public void Resolvers_or_a_port_53_entry_that_together_hold_every_address_are_dns_to_any()
    {
        Finding(Egress("", dns: "[0.0.0.0/1, 128.0.0.0/1]"), "dns-to-any", Severity.Error, "0.0.0.0/1");
        string yaml = Egress("    - { name: dns, to: [0.0.0.0/1, 128.0.0.0/1], udp: [53] }\n");
        Finding(yaml, "dns-to-any", Severity.Error, "{ name: dns");
        Finding(yaml, "allow-any-destination", Severity.Error, "{ name: dns");
    }

    [Fact]
    public void Input_sources_that_together_hold_every_address_are_any_source()
    {
        string yaml = CleanHead + "input:\n  allow:\n    - { name: ssh, from: [0.0.0.0/1, 128.0.0.0/1], tcp: [22] }\n"
            + "egress:\n  dns:\n    resolvers: [192.168.1.10]\n  allow:\n" + CleanControl;
        Finding(yaml, "ssh-open-to-any", Severity.Error, "{ name: ssh");
    }

    [Fact]
    public void No_log_prefix()
    {
        string yaml = "version: 1\negress:\n  allow:\n    - { name: control, to: [203.0.113.50], tcp: [443] }\n";
        Finding(yaml, "no-log-prefix", Severity.Warning, "version");
    }

    [Fact]
    public void Nflog_group_without_prefix_is_only_info()
    {
        string yaml = "version: 1\nlog:\n  group: 100\n  rate: 10/second\negress:\n  allow:\n    - { name: control, to: [203.0.113.50], tcp: [443] }\n";
        Finding(yaml, "no-log-prefix", Severity.Info, "version");
    }

    [Fact]
    public void No_log_rate()
    {
        string yaml = "version: 1\nlog:\n  prefix: \"EGRESS-DENIED: \"\negress:\n  allow:\n    - { name: control, to: [203.0.113.50], tcp: [443] }\n";
        var f = Finding(yaml, "no-log-rate", Severity.Warning, "version");
        Assert.Contains("rate: 10/second", f.Fix);
    }

    [Fact]
    public void Wide_port_range()
    {
        var f = Finding(Egress("    - { name: high, to: [203.0.113.60], udp: [1024-65535] }\n"), "wide-port-range", Severity.Warning, "{ name: high");
        Assert.Contains("64512 udp ports", f.Message);
    }

    [Fact]
    public void A_range_of_256_ports_is_not_wide()
    {
        Assert.Empty(Lint(Egress("    - { name: rtp, to: [203.0.113.60], udp: [10000-10255] }\n", dns: "[192.168.1.10]")));
    }

    [Fact]
    public void Input_without_source()
    {
        string yaml = Egress("", dns: "[192.168.1.10]") + "input:\n  allow:\n    - { name: metrics, tcp: [9100] }\n";
        var f = Finding(yaml, "input-without-source", Severity.Warning, "{ name: metrics");
        Assert.Contains("from:", f.Fix);
    }

    [Fact]
    public void Ssh_open_to_any()
    {
        string yaml = Egress("", dns: "[192.168.1.10]") + "input:\n  allow:\n    - { name: ssh, from: [0.0.0.0/0], tcp: [22] }\n";
        Finding(yaml, "ssh-open-to-any", Severity.Error, "{ name: ssh");
        Assert.DoesNotContain(Lint(yaml), f => f.Code == "input-without-source"); // one finding, the sharper one
    }

    [Fact]
    public void Ssh_from_a_management_network_is_fine()
    {
        string yaml = Egress("", dns: "[192.168.1.10]") + "input:\n  allow:\n    - { name: ssh, from: [10.1.0.0/16], tcp: [22] }\n";
        Assert.Empty(Lint(yaml));
    }

    [Theory]
    [InlineData("udp: [514]")]
    [InlineData("tcp: [514]")]
    [InlineData("tcp: [601]")]
    public void Plaintext_syslog(string ports)
    {
        var f = Finding(Egress($"    - {{ name: syslog, to: [192.168.1.20], {ports} }}\n"), "plaintext-syslog", Severity.Warning, "{ name: syslog");
        Assert.Contains("6514", f.Fix);
    }

    [Fact]
    public void Dns_name_not_pinned()
    {
        var f = Finding(Egress("    - { name: partner, to: [api.partner.example], tcp: [443] }\n", dns: "[192.168.1.10]"), "dns-name-not-pinned", Severity.Info, "api.partner.example");
        Assert.Contains("hosts:", f.Fix);
    }

    [Fact]
    public void Unpinned_names_with_dns_denied()
    {
        string yaml = Egress("    - { name: updates, to: [deb.debian.org], tcp: [443] }\n");
        Finding(yaml, "names-without-resolvers", Severity.Warning, "version");
    }

    [Fact]
    public void Broad_cidr()
    {
        string yaml = Egress("    - { name: cloud, to: [10.0.0.0/8, \"2001:db8::/31\", 172.16.0.0/16], tcp: [443] }\n");
        var findings = Lint(yaml).Where(f => f.Code == "broad-cidr").ToList();
        Assert.Equal(2, findings.Count); // /16 and longer are fine
        Assert.All(findings, f => Assert.Equal(Severity.Warning, f.Severity));
        Assert.Equal(Pos(yaml, "10.0.0.0/8").Column, findings[0].Location.Column);
        Assert.Equal(Pos(yaml, "2001:db8::/31").Column - 1, findings[1].Location.Column); // the quote starts the node
    }

    [Fact]
    public void Broad_resolver()
    {
        Finding(Egress("", dns: "[192.168.1.0/24]"), "broad-resolver", Severity.Warning, "192.168.1.0/24");
    }

    [Fact]
    public void Resolver_given_as_an_unpinned_host_name()
    {
        Finding(Egress("", dns: "[ns1.corp.example]"), "resolver-not-pinned-host", Severity.Warning, "ns1.corp.example");
    }

    [Fact]
    public void Resolver_given_as_a_pinned_host_name_is_fine()
    {
        string yaml = CleanHead.Replace("hosts:\n", "hosts:\n  ns1.corp.example: [192.168.1.10]\n") + "egress:\n  dns:\n    resolvers: [ns1.corp.example]\n  allow:\n" + CleanControl;
        Assert.Empty(Lint(yaml));
    }

    [Fact]
    public void Public_resolver()
    {
        var f = Finding(Egress("", dns: "[8.8.8.8]"), "public-resolver", Severity.Info, "8.8.8.8");
        Assert.Contains("internal resolver", f.Fix);
    }

    [Fact]
    public void Public_dns_resolver_reached_by_an_allow_entry()
    {
        string yaml = Egress("    - { name: doh, to: [1.1.1.1, dns.google], tcp: [443] }\n", dns: "[192.168.1.10]");
        var findings = Lint(yaml).Where(f => f.Code == "public-dns-resolver").ToList();
        Assert.Equal([Pos(yaml, "1.1.1.1").Column, Pos(yaml, "dns.google").Column], findings.Select(f => f.Location.Column));
        Assert.All(findings, f => Assert.Equal(Severity.Warning, f.Severity));
    }

    [Fact]
    public void Dns_over_tls()
    {
        Finding(Egress("    - { name: dot, to: [192.168.1.10], tcp: [853] }\n", dns: "[192.168.1.10]"), "dns-over-tls", Severity.Warning, "{ name: dot");
    }

    [Fact]
    public void Metadata_endpoint()
    {
        string yaml = Egress("    - { name: cloud, to: [169.254.169.254], tcp: [80] }\n", dns: "[192.168.1.10]");
        var f = Finding(yaml, "metadata-endpoint", Severity.Warning, "169.254.169.254");
        Assert.Contains("169.254.169.254", f.Fix);
    }

    /// <summary>The other clouds' endpoints too, each named for what it is, inside a wider network as well.</summary>
    [Theory]
    [InlineData("100.100.100.200", "Alibaba Cloud's instance metadata service")]
    [InlineData("168.63.129.0/24", "Azure's WireServer")]
    [InlineData("fd20:ce::254", "Google Cloud's metadata server")]
    public void Metadata_endpoint_of_other_clouds(string destination, string what)
    {
        string yaml = Egress($"    - {{ name: cloud, to: [{destination}], tcp: [80] }}\n", dns: "[192.168.1.10]");
        var f = Finding(yaml, "metadata-endpoint", Severity.Warning, destination);
        Assert.Contains(what, f.Message);
        Assert.Contains("100.100.100.200", f.Fix);
    }

    [Fact]
    public void Plaintext_http()
    {
        Finding(Egress("    - { name: mirror, to: [198.51.100.7], tcp: [80] }\n", dns: "[192.168.1.10]"), "plaintext-http", Severity.Info, "{ name: mirror");
    }

    [Fact]
    public void Permanent_package_mirror()
    {
        string yaml = Egress("    - { name: updates, to: [security.debian.org, mirror.example], tcp: [443] }\n", dns: "[192.168.1.10]");
        var f = Finding(yaml, "permanent-package-mirror", Severity.Info, "security.debian.org");
        Assert.Contains("only while updating", f.Message);
    }

    [Fact]
    public void A_package_mirror_behind_a_window_is_not_permanent()
    {
        string yaml = Egress("    - { name: updates, to: [deb.debian.org], tcp: [443], window: 30m }\n", dns: "[192.168.1.10]");
        Assert.DoesNotContain(Lint(yaml), f => f.Code == "permanent-package-mirror");
        Assert.Contains("window: 30m", Finding(Egress("    - { name: updates, to: [deb.debian.org], tcp: [443] }\n", dns: "[192.168.1.10]"),
            "permanent-package-mirror", Severity.Info, "deb.debian.org").Fix);
    }

    [Fact]
    public void Window_longer_than_two_hours()
    {
        string yaml = Egress("    - { name: updates, to: [deb.debian.org], tcp: [443], window: 2h1s }\n", dns: "[192.168.1.10]");
        var f = Finding(yaml, "long-window", Severity.Warning, "{ name: updates");
        Assert.Contains("2h1s", f.Message);
        Assert.DoesNotContain(Lint(yaml.Replace("2h1s", "2h")), x => x.Code == "long-window");
    }

    [Fact]
    public void Window_without_host_names()
    {
        string yaml = Egress("    - { name: updates, to: [198.51.100.7], tcp: [443], window: 30m }\n", dns: "[192.168.1.10]");
        Finding(yaml, "window-without-names", Severity.Warning, "{ name: updates");
        Assert.DoesNotContain(Lint(Egress("    - { name: updates, to: [api.example, 198.51.100.7], tcp: [443], window: 30m }\n")), x => x.Code == "window-without-names");
    }

    [Fact]
    public void Redundant_entry_after_the_entries_that_allow_all_of_it()
    {
        // 'again' is the control entry's pinned address by its address, on the control entry's port: all of it is counted
        // under 'control'. Two entries can cover one together: 'web' (80) and 'tls' (443) cover 'both'.
        string yaml = Egress(
            "    - { name: again, to: [203.0.113.50], tcp: [443] }\n"
            + "    - { name: web, to: [198.51.100.0/24], tcp: [80] }\n"
            + "    - { name: tls, to: [198.51.100.0/25], tcp: [443] }\n"
            + "    - { name: both, to: [198.51.100.7], tcp: [80, 443] }\n",
            dns: "[192.168.1.10]");
        var findings = Lint(yaml).Where(f => f.Code == "redundant-entry").ToList();
        Assert.Equal([Pos(yaml, "{ name: again"), Pos(yaml, "{ name: both")], findings.Select(f => (f.Location.Line, f.Location.Column)));
        Assert.All(findings, f => Assert.Equal(Severity.Warning, f.Severity));
        var (controlLine, controlColumn) = Pos(yaml, "{ name: control");
        Assert.Contains($"'control' ({FileName}:{controlLine}:{controlColumn})", findings[0].Message);
        Assert.Contains("counted under 'control'", findings[0].Message);
        Assert.Contains("'web'", findings[1].Message);
        Assert.Contains("'tls'", findings[1].Message);
        Assert.Contains("move it above 'web'", findings[1].Fix);

        // Not redundant: a narrower entry BEFORE the wide one (its traffic is counted under it), a port the others do
        // not allow, an address outside them, the other family, a DNS name (whatever it resolves to), even
        // beside a covered address, the other protocol.
        Assert.DoesNotContain(Lint(Egress(
            "    - { name: narrow, to: [198.51.100.7], tcp: [443] }\n"
            + "    - { name: wide, to: [198.51.100.0/24], tcp: [443] }\n"
            + "    - { name: port, to: [198.51.100.7], tcp: [444] }\n"
            + "    - { name: outside, to: [198.51.101.7], tcp: [443] }\n"
            + "    - { name: six, to: ['2001:db8::7'], tcp: [443] }\n"
            + "    - { name: named, to: [mirror.example], tcp: [443] }\n"
            + "    - { name: mixed, to: [198.51.100.7, mirror.example], tcp: [443] }\n"
            + "    - { name: udp, to: [198.51.100.7], udp: [443] }\n",
            dns: "[192.168.1.10]")), f => f.Code is "redundant-entry" or "window-always-open" or "scope-without-effect");
    }

    [Fact]
    public void Window_always_open_when_permanent_entries_allow_all_of_it()
    {
        // Order does not matter: the permanent entry after the window allows its traffic all the time. A pinned host counts
        // as its addresses.
        string yaml = Egress(
            "    - { name: updates, to: [api.example], tcp: [443], window: 30m }\n"
            + "    - { name: later, to: [203.0.113.0/24], tcp: [443] }\n",
            dns: "[192.168.1.10]");
        var f = Finding(yaml, "window-always-open", Severity.Warning, "{ name: updates");
        Assert.Contains("'control'", f.Message);
        Assert.Contains("'later'", f.Message);
        Assert.DoesNotContain(Lint(yaml), x => x.Code == "redundant-entry");

        // Another window, or a scoped entry, does not keep a window open; one port outside the permanent entries is enough.
        Assert.DoesNotContain(Lint(Egress(
            "    - { name: updates, to: [198.51.100.7], tcp: [443], window: 30m }\n"
            + "    - { name: other-window, to: [198.51.100.7], tcp: [443], window: 10m }\n"
            + "    - { name: scoped, to: [198.51.100.7], tcp: [443], by: { uid: 1000 } }\n"
            + "    - { name: partly, to: [api.example], tcp: [443, 8443], window: 30m }\n",
            dns: "[192.168.1.10]")), x => x.Code == "window-always-open");
    }

    [Fact]
    public void Scope_without_effect_when_unscoped_entries_allow_all_of_it()
    {
        string yaml = Egress("    - { name: agent, to: [api.example], tcp: [443], by: [{ uid: 1000 }, { user: agent }] }\n", dns: "[192.168.1.10]");
        var f = Finding(yaml, "scope-without-effect", Severity.Warning, "{ name: agent");
        Assert.Contains("uid 1000 or user agent", f.Message);
        Assert.Contains("'control'", f.Message);
        // The same scope on a destination no unscoped entry allows limits who reaches it.
        Assert.DoesNotContain(Lint(yaml.Replace("to: [api.example], tcp: [443], by:", "to: [198.51.100.7], tcp: [443], by:")), x => x.Code == "scope-without-effect");
    }

    // ---- selftest-fails ------------------------------------------------------------------------------------

    private static string WithSelfTest(string allow, string deny = "[]") =>
        Egress("    - { name: updates, to: [mirror.example], tcp: [443], window: 30m }\n"
            + "    - { name: cdn, to: [cdn.example], tcp: [8443] }\n"
            + "    - { name: agent, to: [198.51.100.9], tcp: [443], by: { uid: 1000 } }\n", dns: "[192.168.1.10]")
            .Replace("  api.example: [203.0.113.50]\n", "  api.example: [203.0.113.50]\n  mirror.example: [198.51.100.80, 198.51.100.81]\n")
            + $"selftest:\n  allow: {allow}\n  deny: {deny}\n";

    [Fact]
    public void A_selftest_allow_flow_only_a_window_entry_allows_always_fails()
    {
        string yaml = WithSelfTest("[\"mirror.example:443\"]");
        var f = Finding(yaml, "selftest-fails", Severity.Error, "\"mirror.example:443\"");
        Assert.StartsWith("selftest.allow 'mirror.example:443' (198.51.100.80): only window entry 'updates' at ", f.Message);
        Assert.Contains("apply leaves windows closed", f.Message);
        // The same address written out, and a port no entry has (8443 would be the DNS name's: not reported).
        yaml = WithSelfTest("[\"198.51.100.81:443\", \"api.example:9443\"]");
        var both = Lint(yaml).Where(x => x.Code == "selftest-fails").ToList();
        Assert.Equal(2, both.Count);
        Assert.StartsWith("selftest.allow '198.51.100.81:443': only window entry 'updates'", both[0].Message);
        Assert.StartsWith("selftest.allow 'api.example:9443' (203.0.113.50): no permanent entry allows tcp/9443 to 203.0.113.50", both[1].Message);
    }

    [Fact]
    public void A_selftest_deny_flow_the_policy_allows_always_fails()
    {
        string yaml = WithSelfTest("[]", "[\"api.example:443\", \"udp:192.168.1.10:53\", \"127.0.0.1:22\"]");
        var findings = Lint(yaml).Where(x => x.Code == "selftest-fails").ToList();
        Assert.Equal(3, findings.Count);
        Assert.StartsWith("selftest.deny 'api.example:443' (203.0.113.50): entry 'control' at ", findings[0].Message);
        Assert.Contains("a resolver of egress.dns", findings[1].Message);
        Assert.Contains("loopback traffic is always allowed", findings[2].Message);
    }

    [Fact]
    public void A_selftest_the_policy_passes_or_that_dns_or_a_scope_decides_is_not_reported()
    {
        // Allowed as it should be, denied as it should be (a closed window, a port no entry has), a DNS name's flow (its
        // addresses are not known before apply), a flow a by: entry allows (the probing process may be the one it names).
        Assert.DoesNotContain(Lint(WithSelfTest(
            "[\"api.example:443\", \"udp:192.168.1.10:53\", \"cdn.example:8443\", \"198.51.100.9:443\", \"203.0.113.7:8443\"]",
            "[\"mirror.example:443\", \"api.example:8443\", \"198.51.100.9:443\"]")), x => x.Code == "selftest-fails");
    }

    [Fact]
    public void A_selftest_flow_to_an_address_of_the_host_goes_over_loopback()
    {
        // 10.9.0.2 is this host's (its interface's): the flow never leaves through the policy's allow rules.
        string yaml = WithSelfTest("[\"10.9.0.2:8080\"]", "[\"udp:10.9.0.2:5353\"]");
        var unknown = PolicyLinter.Lint(PolicyLoader.Load(yaml, FileName)).Where(x => x.Code == "selftest-fails").ToList();
        Assert.Single(unknown, x => x.Message.StartsWith("selftest.allow '10.9.0.2:8080': no permanent entry allows tcp/8080 to 10.9.0.2", StringComparison.Ordinal));
        var known = PolicyLinter.Lint(PolicyLoader.Load(yaml, FileName), [], [IPAddress.Parse("10.9.0.2"), IPAddress.Parse("fe80::1")])
            .Where(x => x.Code == "selftest-fails").ToList();
        var deny = Assert.Single(known);
        Assert.StartsWith("selftest.deny 'udp:10.9.0.2:5353': 10.9.0.2 is an address of this host, and traffic to it goes over loopback, which is always allowed", deny.Message);
    }

    [Fact]
    public void Redundant_input_entry()
    {
        // An input entry without 'from:' accepts its ports from anywhere: a later one on those ports adds nothing.
        string yaml = Egress("", dns: "[192.168.1.10]")
            + "input:\n  allow:\n    - { name: metrics, tcp: [9100] }\n    - { name: scrape, from: [10.0.0.0/8], tcp: [9100] }\n";
        Finding(yaml, "redundant-entry", Severity.Warning, "{ name: scrape");
        Assert.DoesNotContain(Lint(yaml.Replace("tcp: [9100] }\n    - { name: scrape", "tcp: [9101] }\n    - { name: scrape")), x => x.Code == "redundant-entry");
    }

    [Fact]
    public void Nothing_allowed()
    {
        Finding(CleanHead, "nothing-allowed", Severity.Info, "version");
    }

    [Fact]
    public void Findings_come_in_file_order_with_the_most_severe_first_at_a_location()
    {
        string yaml = "version: 1\negress:\n  dns:\n    resolvers: [0.0.0.0/0]\n  allow:\n    - { name: any, to: [0.0.0.0/0], tcp: [1-65535] }\n";
        var findings = Lint(yaml);
        Assert.Equal(
            ["no-log-prefix", "dns-to-any", "dns-to-any", "dns-over-tls", "wide-port-range", "allow-any-destination"],
            findings.Select(f => f.Code));
        Assert.Equal(findings.OrderBy(f => f.Location.Line).ThenBy(f => f.Location.Column).Select(f => f.Location), findings.Select(f => f.Location));
    }

    [Fact]
    public void Builder_policies_are_linted_with_code_locations()
    {
        var policy = new PolicyBuilder().Resolvers("0.0.0.0/0").AllowEgress("x", to: ["203.0.113.7"], tcp: [443]).Build();
        var findings = PolicyLinter.Lint(policy);
        Assert.Contains(findings, f => f.Code == "dns-to-any" && f.Location.ToString() == "(builder) Resolvers()[0]");
        Assert.Contains(findings, f => f.Code == "no-log-prefix" && f.Location == SourceLocation.Code);
    }
}
