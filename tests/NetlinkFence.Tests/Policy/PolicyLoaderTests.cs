using System.Net;
using System.Text;
using NetlinkFence.Policy;
using static NetlinkFence.Tests.Policy.PolicyTestSupport;

namespace NetlinkFence.Tests.Policy;

/// <summary>
/// Every error class of the loader, with the exact file:line:column, the stable code and a fix; all errors of a
/// file at once; and the shipped example loading to the expected model.
/// </summary>
public sealed class PolicyLoaderTests
{
    /// <summary>A valid egress entry body to embed where the test is about something else.</summary>
    private const string Ok = "version: 1\n";

    private static PolicyDiagnostic OnlyAt(string yaml, string code, string token, int nth = 1)
    {
        var (line, column) = Pos(yaml, token, nth);
        return Only(yaml, code, line, column);
    }

    private static string Egress(string entry) => Ok + "egress:\n  allow:\n" + entry;

    private static EgressPolicy Load(string yaml) => PolicyLoader.Load(yaml, FileName);

    // ---- keys -------------------------------------------------------------------------------------------

    [Fact]
    public void Unknown_root_key_suggests_the_right_one()
    {
        var d = Only("version: 1\negres:\n  allow: []\n", "unknown-key", 2, 1);
        Assert.Contains("'egres'", d.Message);
        Assert.Contains("did you mean 'egress'?", d.Fix);
    }

    [Fact]
    public void Unknown_nested_key_in_an_entry_suggests_the_right_one()
    {
        string yaml = Egress("    - name: web\n      to: [203.0.113.7]\n      tcp: [443]\n      ud: [53]\n");
        var d = Only(yaml, "unknown-key", 7, 7);
        Assert.Contains("egress.allow[1]", d.Message);
        Assert.Contains("did you mean 'udp'?", d.Fix);
        Assert.Contains("name, to, tcp, udp, window", d.Fix);
    }

    [Theory]
    [InlineData("input:\n  allow:\n    - name: ssh\n      from: [10.20.0.0/16]\n      tcp: [22]\n      window: 10m\n", 7, "input.allow[1] cannot have 'window:': windows are egress only")]
    [InlineData("input:\n  allow:\n    - name: ssh\n      to: [10.20.0.0/16]\n      tcp: [22]\n", 5, "input.allow[1] cannot have 'to:': an input entry names who may connect to the host with 'from:'")]
    [InlineData("input:\n  allow:\n    - name: ssh\n      from: [10.20.0.0/16]\n      tcp: [22]\n      resolve: lazy\n", 7, "input.allow[1] cannot have 'resolve:'")]
    [InlineData("egress:\n  allow:\n    - name: web\n      to: [203.0.113.7]\n      from: [10.0.0.1]\n      tcp: [443]\n", 6, "egress.allow[1] cannot have 'from:': an egress entry names where the host may connect with 'to:'")]
    public void A_key_of_the_other_directions_entries_says_why_it_is_not_allowed_here(string tail, int line, string message)
    {
        var d = Only(Ok + tail, "unknown-key", line, 7);
        Assert.StartsWith(message, d.Message);
        // What is allowed, and nothing refused on this side ('by' is read on input entries only to be refused).
        Assert.Equal(message.StartsWith("input", StringComparison.Ordinal) ? "allowed here: name, from, tcp, udp" : "allowed here: name, to, tcp, udp, window, resolve, by", d.Fix);
    }

    [Fact]
    public void By_on_an_input_entry_is_refused_with_the_entrys_name_and_why()
    {
        var d = Only(Ok + "input:\n  allow:\n    - name: ssh\n      from: [10.20.0.0/16]\n      tcp: [22]\n      by: { unit: sshd.service }\n", "by-on-input", 7, 11);
        Assert.Equal("input.allow[1] ('ssh') has 'by:', which input entries cannot have", d.Message);
        Assert.Contains("narrow 'from:' and the ports", d.Fix);
    }

    [Fact]
    public void Unknown_key_under_dns_is_reported_with_the_missing_resolvers()
    {
        string yaml = "version: 1\negress:\n  dns:\n    resolver: [192.168.1.10]\n";
        var e = Fails(yaml);
        // Both at the dns mapping's first key; the typo comes first, and explains the second.
        Assert.Collection(e.Diagnostics,
            d =>
            {
                Assert.Equal("unknown-key", d.Code);
                Assert.Equal(new SourceLocation(FileName, 4, 5), d.Location);
                Assert.Contains("did you mean 'resolvers'?", d.Fix);
            },
            d =>
            {
                Assert.Equal("dns-without-resolvers", d.Code);
                Assert.Equal(new SourceLocation(FileName, 4, 5), d.Location);
            });
    }

    [Fact]
    public void Unknown_key_without_a_close_match_lists_the_allowed_keys()
    {
        var d = Only("version: 1\nlog:\n  colour: red\n", "unknown-key", 3, 3);
        Assert.DoesNotContain("did you mean", d.Fix);
        Assert.Contains("prefix, rate, group", d.Fix);
    }

    [Fact]
    public void Duplicate_keys_are_reported_and_the_rest_of_the_file_is_still_checked()
    {
        string yaml = "version: 1\nlog:\n  prefix: \"A: \"\n  prefix: \"B: \"\nversion: 1\negress:\n  allow:\n    - name: x\n      to: [10.0.0.1/8]\n      tcp: [443]\n";
        var e = Fails(yaml);
        Assert.Equal(["duplicate-key", "duplicate-key", "bad-address"], e.Diagnostics.Select(d => d.Code));
        Assert.Equal(new SourceLocation(FileName, 4, 3), e.Diagnostics[0].Location);
        Assert.Contains("first at line 3, column 3", e.Diagnostics[0].Message);
        Assert.Equal(new SourceLocation(FileName, 5, 1), e.Diagnostics[1].Location);
        Assert.Contains("'version'", e.Diagnostics[1].Message);
    }

    [Fact]
    public void Duplicate_key_with_a_nested_value_skips_the_whole_value()
    {
        string yaml = "version: 1\negress:\n  allow: []\negress:\n  allow:\n    - name: x\n      nonsense: 1\n";
        var d = OnlyAt(yaml, "duplicate-key", "egress", 2);
        Assert.Contains("first at line 2, column 1", d.Message);
    }

    // ---- version ----------------------------------------------------------------------------------------

    [Fact]
    public void Wrong_version()
    {
        var d = Only("version: 2\n", "bad-version", 1, 10);
        Assert.Contains("'2'", d.Message);
        Assert.Contains("version: 1", d.Fix);
    }

    [Fact]
    public void Missing_version()
    {
        var d = Only("table: netlinkfence\n", "missing-version", 1, 1);
        Assert.Contains("version: 1", d.Fix);
    }

    // ---- variables --------------------------------------------------------------------------------------

    [Fact]
    public void Undefined_variable_suggests_the_defined_one()
    {
        string yaml = "version: 1\ndefine:\n  collector: 192.168.1.20\negress:\n  allow:\n    - name: syslog\n      to: [$colector]\n      tcp: [6514]\n";
        var d = Only(yaml, "undefined-variable", 7, 12);
        Assert.Contains("'$colector'", d.Message);
        Assert.Contains("did you mean '$collector'?", d.Fix);
    }

    [Fact]
    public void Undefined_variable_without_a_near_name_says_where_to_define_it()
    {
        string yaml = "version: 1\negress:\n  dns:\n    resolvers: $resolvers\n";
        var d = Only(yaml, "undefined-variable", 4, 16);
        Assert.Contains("define 'resolvers' under 'define:'", d.Fix);
    }

    [Fact]
    public void Empty_list_variable_where_an_address_is_required_is_one_error_at_the_reference()
    {
        string yaml = "version: 1\ndefine:\n  mirrors: []\negress:\n  allow:\n    - name: updates\n      to: [$mirrors]\n      tcp: [443]\n";
        var d = Only(yaml, "empty-variable", 7, 12);
        Assert.Contains("'$mirrors' is an empty list", d.Message);
    }

    [Fact]
    public void Empty_variable_used_as_a_pin_or_resolver_is_an_error()
    {
        string yaml = "version: 1\ndefine:\n  none: []\nhosts:\n  a.example: $none\negress:\n  dns:\n    resolvers: [$none]\n";
        var e = Fails(yaml);
        Assert.Equal(["empty-variable", "empty-variable"], e.Diagnostics.Select(d => d.Code));
        Assert.Equal(new SourceLocation(FileName, 5, 14), e.Diagnostics[0].Location);
        Assert.Equal(new SourceLocation(FileName, 8, 17), e.Diagnostics[1].Location);
    }

    [Fact]
    public void An_error_in_a_variables_value_names_the_definition_as_well_as_the_reference()
    {
        string yaml = "version: 1\ndefine:\n  api: 999.1.1.1\n  ports: [443, 70000]\negress:\n  allow:\n    - name: a\n      to: [$api, 10.0.0.1/8]\n      tcp: $ports\n";
        var e = Fails(yaml);
        Assert.Equal([("bad-address", 8, 12), ("bad-address", 8, 18), ("bad-port", 9, 12)], e.Diagnostics.Select(d => (d.Code, d.Location.Line, d.Location.Column)));
        Assert.EndsWith($"(from $api, defined at {FileName}:3:3)", e.Diagnostics[0].Message);
        Assert.DoesNotContain("defined at", e.Diagnostics[1].Message);
        Assert.EndsWith($"(from $ports, defined at {FileName}:4:3)", e.Diagnostics[2].Message);
    }

    [Fact]
    public void A_variable_cannot_refer_to_another()
    {
        OnlyAt("version: 1\ndefine:\n  a: 10.0.0.1\n  b: [$a]\n", "nested-variable", "$a");
    }

    [Fact]
    public void Bad_variable_name()
    {
        OnlyAt("version: 1\ndefine:\n  my-var: 10.0.0.1\n", "bad-variable-name", "my-var");
    }

    [Fact]
    public void Variables_expand_in_place_and_keep_values_in_order()
    {
        string yaml = "version: 1\ndefine:\n  web: [203.0.113.7, 198.51.100.0/24]\n  ports: [443, 8443]\negress:\n  allow:\n    - name: web\n      to: [$web, 192.0.2.1]\n      tcp: $ports\n";
        var policy = PolicyLoader.Load(yaml, FileName);
        var entry = Assert.Single(policy.Egress);
        Assert.Equal(["203.0.113.7", "198.51.100.0/24", "192.0.2.1"], entry.Peers.Select(p => p.Text));
        Assert.Equal([new PortRange(443, 443), new PortRange(8443, 8443)], entry.Tcp);
        // Values from a variable are located at the reference, where the reader looks.
        Assert.Equal(new SourceLocation(FileName, 8, 12), entry.Peers[0].Location);
    }

    // ---- addresses --------------------------------------------------------------------------------------

    [Theory]
    [InlineData("10.0.0.1/8", "10.0.0.0/8")]
    [InlineData("192.168.1.77/24", "192.168.1.0/24")]
    [InlineData("2001:db8::1/32", "2001:db8::/32")]
    public void Non_canonical_CIDR_shows_the_canonical_form(string cidr, string canonical)
    {
        string yaml = Egress($"    - name: x\n      to: [{cidr}]\n      tcp: [443]\n");
        var d = Only(yaml, "bad-address", 5, 12);
        Assert.Contains("host bits", d.Message);
        Assert.Contains($"write {canonical} (the network)", d.Fix);
    }

    [Theory]
    [InlineData("10.0.0.0/33", "/33", "/32")]
    [InlineData("2001:db8::/129", "/129", "/128")]
    public void Prefix_longer_than_the_address(string cidr, string prefix, string max)
    {
        string yaml = Egress($"    - name: x\n      to: [{cidr}]\n      tcp: [443]\n");
        var d = Only(yaml, "bad-address", 5, 12);
        Assert.Contains(prefix, d.Message);
        Assert.Contains(max, d.Fix);
    }

    [Theory]
    [InlineData("203.0.113.500", "neither an IP address")]
    [InlineData("10/8", "not a CIDR")]            // IPAddress.TryParse alone reads "10" as 0.0.0.10
    [InlineData("10.1/16", "not a CIDR")]
    [InlineData("010.0.0.1", "neither an IP address")] // octal or decimal? refuse rather than guess
    [InlineData("10.0.0.0/", "not a CIDR")]
    [InlineData("10.0.0.0/+8", "not a CIDR")]
    [InlineData("::ffff:203.0.113.7", "IPv4-mapped")]
    [InlineData("fe80::1%eth0", "zone index")]
    [InlineData("white space.example", "neither an IP address")]
    [InlineData("-leading-hyphen.example", "neither an IP address")]
    [InlineData("https://api.example.com", "is a URL")]
    public void Bad_address(string text, string reason)
    {
        string yaml = Egress($"    - name: x\n      to: [\"{text}\"]\n      tcp: [443]\n");
        var d = Only(yaml, "bad-address", 5, 12);
        Assert.Contains(reason, d.Message);
    }

    [Theory]
    [InlineData("bücher.example", "xn--bcher-kva.example")]
    [InlineData("Bücher.Example.", "xn--bcher-kva.example")]
    [InlineData("\u0430pple.com", "xn--pple-43d.com")] // a Cyrillic 'а': the look-alike the ASCII form gives away
    public void An_internationalized_name_is_refused_with_its_ascii_form(string name, string ascii)
    {
        string yaml = Egress($"    - name: x\n      to: [\"{name}\"]\n      tcp: [443]\n");
        var d = Only(yaml, "bad-address", 5, 12);
        Assert.Contains("internationalized host name", d.Message);
        Assert.Equal($"write {ascii}", d.Fix);

        var pin = Assert.Single(Fails($"version: 1\nhosts:\n  {name}: [203.0.113.7]\n").Diagnostics);
        Assert.Equal(("bad-host-name", new SourceLocation(FileName, 3, 3)), (pin.Code, pin.Location));
        Assert.Equal($"write {ascii}", pin.Fix);

        // The form it suggests is taken.
        Assert.Equal(ascii, Assert.Single(PolicyLoader.Load(Egress($"    - name: x\n      to: [{ascii}]\n      tcp: [443]\n"), FileName).Egress[^1].Peers).HostName);
    }

    [Fact]
    public void A_host_name_with_an_underscore_is_taken_as_a_destination_and_as_a_pin()
    {
        // Not LDH, but DNS carries it and directory-managed zones hold such names: nothing else could name the host.
        var policy = PolicyLoader.Load("version: 1\nhosts:\n  _svc.corp.example: [203.0.113.8]\n"
            + "egress:\n  allow:\n    - { name: x, to: [build_01.corp.example, _svc.corp.example], tcp: [443] }\n", FileName);
        Assert.Equal(["build_01.corp.example", "_svc.corp.example"], policy.Egress[0].Peers.Select(p => p.HostName));
        Assert.Equal([IPAddress.Parse("203.0.113.8")], policy.Hosts["_svc.corp.example"]);
    }

    [Fact]
    public void An_address_range_is_the_fewest_networks_that_hold_exactly_its_addresses()
    {
        var policy = Load(Egress("    - name: x\n      to: [198.51.100.8-198.51.100.20, \"2001:db8::1 - 2001:db8::7\", 203.0.113.9-203.0.113.9, build-01.example]\n      tcp: [443]\n"
            + "input:\n  allow:\n    - { name: ssh, from: [10.0.0.0-10.0.255.255], tcp: [22] }\n"));
        var peers = policy.Egress[0].Peers;
        Assert.Equal(["198.51.100.8/29", "198.51.100.16/30", "198.51.100.20/32", "2001:db8::1/128", "2001:db8::2/127", "2001:db8::4/126", "203.0.113.9/32"],
            peers.Select(p => p.Network?.ToString()).OfType<string>());
        // Each network keeps the range as written (addresses in their usual form), for plan's comments and lint's messages.
        Assert.Equal(["198.51.100.8-198.51.100.20", "2001:db8::1-2001:db8::7", "203.0.113.9-203.0.113.9", "build-01.example"], peers.Select(p => p.Text).Distinct());
        Assert.All(peers.Take(3), p => Assert.Equal(new SourceLocation(FileName, 5, 12), p.Location));
        Assert.Equal("build-01.example", peers[^1].HostName); // a host name with hyphens is still one
        Assert.Equal(["10.0.0.0/16"], policy.Input[0].Peers.Select(p => p.Network?.ToString()));
    }

    [Theory]
    [InlineData("203.0.113.20-203.0.113.10", "address range '203.0.113.20-203.0.113.10' runs backwards", "write 203.0.113.10-203.0.113.20")]
    [InlineData("203.0.113.10-2001:db8::1", "mixes an IPv4 and an IPv6 address", "203.0.113.10-203.0.113.20")]
    [InlineData("203.0.113.10-api.example", "'api.example' is not an address", "FIRST-LAST")]
    [InlineData("203.0.113.10-203.0.113.0/28", "'203.0.113.0/28' is not an address", "FIRST-LAST")]
    [InlineData("::ffff:10.0.0.1-::ffff:10.0.0.9", "IPv4-mapped", "write 10.0.0.1")]
    public void A_bad_address_range_is_located_and_says_what_to_write(string range, string message, string fix)
    {
        var d = Only(Egress($"    - name: x\n      to: [\"{range}\"]\n      tcp: [443]\n"), "bad-address", 5, 12);
        Assert.Contains(message, d.Message);
        Assert.Contains(fix, d.Fix);
    }

    [Fact]
    public void Several_bad_addresses_in_one_list_each_at_its_own_column()
    {
        string yaml = Egress("    - name: x\n      to: [10.0.0.1/8, 203.0.113.7, 1.2.3.4/40]\n      tcp: [443]\n");
        var e = Fails(yaml);
        Assert.Equal([new SourceLocation(FileName, 5, 12), new SourceLocation(FileName, 5, 37)], e.Diagnostics.Select(d => d.Location));
    }

    [Fact]
    public void Hosts_pins_errors()
    {
        string yaml = "version: 1\nhosts:\n  api.example: [203.0.113.7, api2.example]\n  10.0.0.1: [10.0.0.1]\n  empty.example: []\n  API.example: [203.0.113.8]\n";
        var e = Fails(yaml);
        Assert.Equal(["bad-pin", "bad-host-name", "empty-pin", "duplicate-pin"], e.Diagnostics.Select(d => d.Code));
        Assert.Equal(new SourceLocation(FileName, 3, 30), e.Diagnostics[0].Location);
        Assert.Equal(new SourceLocation(FileName, 4, 3), e.Diagnostics[1].Location);
        Assert.Equal(new SourceLocation(FileName, 5, 18), e.Diagnostics[2].Location);
        Assert.Equal(new SourceLocation(FileName, 6, 3), e.Diagnostics[3].Location);
    }

    // ---- ports ------------------------------------------------------------------------------------------

    [Fact]
    public void Bad_ports_each_reported_at_its_column()
    {
        string yaml = Egress("    - name: x\n      to: [203.0.113.7]\n      tcp: [0, 65536, abc, 2000-1000, 99999999999]\n");
        var e = Fails(yaml);
        Assert.All(e.Diagnostics, d => Assert.Equal("bad-port", d.Code));
        Assert.Equal([13, 16, 23, 28, 39], e.Diagnostics.Select(d => d.Location.Column));
        Assert.All(e.Diagnostics, d => Assert.Equal(6, d.Location.Line));
        Assert.Contains("port 0 is out of range", e.Diagnostics[0].Message);
        Assert.Contains("1 to 65535", e.Diagnostics[0].Fix);
        Assert.Contains("port 65536 is out of range", e.Diagnostics[1].Message);
        Assert.Contains("'abc' is not a port", e.Diagnostics[2].Message);
        Assert.Contains("runs backwards", e.Diagnostics[3].Message);
        Assert.Contains("write 1000-2000", e.Diagnostics[3].Fix);
    }

    [Theory]
    [InlineData(2)] // short lists are searched
    [InlineData(20)] // long ones go through a hash set
    public void Repeated_destinations_and_ports_are_kept_once_in_first_order(int distinct)
    {
        var addresses = Enumerable.Range(1, distinct).Select(i => $"203.0.113.{i}").ToList();
        var ports = Enumerable.Range(1, distinct).Select(i => (1000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        // Each value twice, the second copy after all the others, plus a repeat spelled differently (a range of one port).
        string to = string.Join(", ", addresses.Concat(addresses).Append(addresses[0]));
        string tcp = string.Join(", ", ports.Concat(ports).Append($"{ports[0]}-{ports[0]}"));
        var entry = Assert.Single(PolicyLoader.Load(Egress($"    - name: x\n      to: [{to}]\n      tcp: [{tcp}]\n"), FileName).Egress);
        Assert.Equal(addresses, entry.Peers.Select(p => p.Text));
        Assert.Equal(ports.Select(p => new PortRange(ushort.Parse(p, System.Globalization.CultureInfo.InvariantCulture), ushort.Parse(p, System.Globalization.CultureInfo.InvariantCulture))), entry.Tcp);
    }

    [Fact]
    public void Port_ranges_and_scalars_are_read()
    {
        string yaml = Egress("    - name: x\n      to: 203.0.113.7\n      tcp: 443\n      udp: [1000-2000, 53]\n");
        var entry = Assert.Single(PolicyLoader.Load(yaml, FileName).Egress);
        Assert.Equal([new PortRange(443, 443)], entry.Tcp);
        Assert.Equal([new PortRange(1000, 2000), new PortRange(53, 53)], entry.Udp);
    }

    [Fact]
    public void Entry_without_ports()
    {
        string yaml = Egress("    - name: x\n      to: [203.0.113.7]\n");
        var d = Only(yaml, "no-ports", 4, 7);
        Assert.Contains("tcp: [443]", d.Fix);
    }

    [Fact]
    public void Entry_with_empty_port_lists_has_no_ports()
    {
        Only(Egress("    - name: x\n      to: [203.0.113.7]\n      tcp: []\n      udp: []\n"), "no-ports", 4, 7);
    }

    // ---- entries ----------------------------------------------------------------------------------------

    [Fact]
    public void Egress_entry_without_a_name()
    {
        var d = Only(Egress("    - to: [203.0.113.7]\n      tcp: [443]\n"), "missing-name", 4, 7);
        Assert.Contains("egress.allow[1]", d.Message);
        Assert.Contains("name:", d.Fix);
    }

    [Fact]
    public void Entry_without_name_destinations_or_ports_reports_all_three()
    {
        var e = Fails(Egress("    - window: x\n"));
        Assert.Equal(["bad-window", "missing-destinations", "missing-name", "no-ports"], e.Diagnostics.Select(d => d.Code).Order());
    }

    [Fact]
    public void Bad_ports_do_not_also_report_no_ports()
    {
        var d = Only(Egress("    - name: x\n      to: [203.0.113.7]\n      tcp: [0]\n"), "bad-port", 6, 13);
        Assert.Contains("out of range", d.Message);
    }

    [Theory]
    [InlineData("Web Server", "it has upper-case letters", "write 'web-server'")]
    [InlineData("web server", "it has a space", "write 'web-server'")]
    [InlineData("api/prod", "it has '/'", "write 'api-prod'")]
    [InlineData("ironclaw-control-plane-api-endpoint-eu", "it is 38 characters long", "write 'ironclaw-control-plane-api-endpo'")]
    [InlineData("-web", "it starts with '-' or '_'", "write 'web'")]
    [InlineData("\"!!!\"", "it has '!'", "use 1-32 lower-case letters")]
    [InlineData("\"\"", "it is empty", "use 1-32 lower-case letters")]
    public void Bad_entry_name_says_what_is_wrong_and_suggests_one(string written, string why, string fix)
    {
        var d = OnlyAt(Egress($"    - name: {written}\n      to: [203.0.113.7]\n      tcp: [443]\n"), "bad-entry-name", written);
        Assert.EndsWith(why, d.Message);
        Assert.StartsWith(fix, d.Fix);
    }

    [Fact]
    public void Duplicate_entry_names_point_at_the_second_and_mention_the_first()
    {
        string yaml = Egress("    - name: web\n      to: [203.0.113.7]\n      tcp: [443]\n    - name: web\n      to: [203.0.113.8]\n      tcp: [443]\n");
        var d = Only(yaml, "duplicate-name", 7, 7);
        Assert.Contains("first at p.yaml:4:7", d.Message);
    }

    [Fact]
    public void Egress_entry_without_destinations()
    {
        Only(Egress("    - name: x\n      tcp: [443]\n"), "missing-destinations", 4, 7);
    }

    [Fact]
    public void Egress_entry_with_an_empty_destination_list()
    {
        var d = Only(Egress("    - name: x\n      to: []\n      tcp: [443]\n"), "empty-destinations", 5, 11);
        Assert.Contains("to is empty", d.Message);
    }

    [Theory]
    [InlineData("30m", 1800)]
    [InlineData("1s", 1)]
    [InlineData("90s", 90)]
    [InlineData("1h30m", 5400)]
    [InlineData("24h", 86400)]
    public void Window_is_read_as_a_duration(string text, int seconds)
    {
        var policy = Load(Egress($"    - name: updates\n      to: [deb.debian.org]\n      tcp: [443]\n      window: {text}\n"));
        Assert.Equal(TimeSpan.FromSeconds(seconds), Assert.Single(policy.Egress).Window);
    }

    [Theory]
    [InlineData("updates", "not a duration")]
    [InlineData("0s", "out of range")]
    [InlineData("25h", "out of range")]
    [InlineData("24h1s", "out of range")]
    [InlineData("30", "not a duration")]
    [InlineData("1.5h", "not a duration")]
    [InlineData("30m1h", "not a duration")]
    [InlineData("-5m", "not a duration")]
    public void Bad_window_is_a_located_error(string text, string message)
    {
        var d = Only(Egress($"    - name: updates\n      to: [deb.debian.org]\n      tcp: [443]\n      window: {text}\n"), "bad-window", 7, 15);
        Assert.Contains(message, d.Message);
    }

    [Fact]
    public void Window_changes_equality()
    {
        string Entry(string window) => Egress($"    - name: updates\n      to: [deb.debian.org]\n      tcp: [443]\n{window}");
        Assert.Equal(Load(Entry("      window: 30m\n")).Egress[0], Load(Entry("      window: 1800s\n")).Egress[0]);
        Assert.NotEqual(Load(Entry("      window: 30m\n")).Egress[0], Load(Entry("      window: 31m\n")).Egress[0]);
        Assert.NotEqual(Load(Entry("      window: 30m\n")).Egress[0], Load(Entry("")).Egress[0]);
    }

    [Fact]
    public void Input_without_from_means_any_source_but_an_empty_from_is_an_error()
    {
        var policy = PolicyLoader.Load("version: 1\ninput:\n  allow:\n    - { name: ssh, tcp: [22] }\n", FileName);
        Assert.Empty(Assert.Single(policy.Input).Peers);

        Only("version: 1\ninput:\n  allow:\n    - { name: ssh, from: [], tcp: [22] }\n", "empty-destinations", 4, 26);
    }

    [Fact]
    public void Allow_that_is_not_a_list()
    {
        Only("version: 1\negress:\n  allow:\n    name: x\n", "not-a-list", 4, 5);
    }

    // ---- log --------------------------------------------------------------------------------------------

    [Fact]
    public void Log_prefix_too_long()
    {
        string prefix = new('A', 128);
        var d = Only($"version: 1\nlog:\n  prefix: \"{prefix}\"\n", "bad-log-prefix", 3, 11);
        Assert.Contains("128 bytes", d.Message);
        Assert.Contains("127", d.Fix);
    }

    [Fact]
    public void Log_prefix_with_a_dollar_is_refused_because_nft_reads_it_as_a_variable()
    {
        var d = Only("version: 1\nlog:\n  prefix: \"COST$ \"\n", "bad-log-prefix", 3, 11);
        Assert.Contains("'$'", d.Message);
    }

    [Theory]
    [InlineData("1abc")]
    [InlineData("-abc")]
    public void Table_name_nft_would_read_as_a_number_is_refused(string name)
    {
        var d = Only($"version: 1\ntable: \"{name}\"\n", "bad-table-name", 2, 8);
        Assert.Contains("starting with a letter", d.Fix);
    }

    [Fact]
    public void Log_prefix_of_127_bytes_is_accepted()
    {
        string prefix = new('A', 127);
        Assert.Equal(prefix, PolicyLoader.Load($"version: 1\nlog:\n  prefix: \"{prefix}\"\n", FileName).Log.Prefix);
    }

    [Fact]
    public void Log_prefix_counts_bytes_not_characters()
    {
        string prefix = new('é', 64); // 128 bytes in UTF-8
        var d = Only($"version: 1\nlog:\n  prefix: \"{prefix}\"\n", "bad-log-prefix", 3, 11);
        Assert.Contains("128 bytes", d.Message);
    }

    [Theory]
    [InlineData("\\tDENIED: ")]
    [InlineData("DENIED\\n")]
    [InlineData("DENI\\u00e9D")]
    [InlineData("")]
    public void Log_prefix_with_control_characters_or_empty(string escaped)
    {
        var d = Only($"version: 1\nlog:\n  prefix: \"{escaped}\"\n", "bad-log-prefix", 3, 11);
        Assert.False(string.IsNullOrEmpty(d.Fix));
    }

    [Theory]
    [InlineData("10/sec")]
    [InlineData("0/second")]
    [InlineData("ten/second")]
    [InlineData("10")]
    [InlineData("2000000/second")]
    public void Bad_log_rate(string rate)
    {
        var d = Only($"version: 1\nlog:\n  prefix: \"X: \"\n  rate: {rate}\n", "bad-log-rate", 4, 9);
        Assert.Contains("/second", d.Fix);
    }

    [Theory]
    [InlineData("70000")]
    [InlineData("abc")]
    [InlineData("-1")]
    public void Bad_log_group(string group)
    {
        var d = Only($"version: 1\nlog:\n  group: {group}\n", "bad-log-group", 3, 10);
        Assert.Contains("0 to 65535", d.Message);
    }

    [Fact]
    public void Log_rate_units()
    {
        var log = PolicyLoader.Load("version: 1\nlog:\n  prefix: \"X: \"\n  rate: 6/minute\n  group: 100\n", FileName).Log;
        Assert.Equal(new LogSettings("X: ", 6, 60, 100), log);
    }

    // ---- dns --------------------------------------------------------------------------------------------

    [Fact]
    public void Dns_without_resolvers()
    {
        var d = Only("version: 1\negress:\n  dns: {}\n", "dns-without-resolvers", 3, 8);
        Assert.Contains("never allowed", d.Fix);
    }

    [Fact]
    public void Empty_resolvers()
    {
        Only("version: 1\negress:\n  dns:\n    resolvers: []\n", "empty-destinations", 4, 16);
    }

    [Fact]
    public void Null_resolvers_are_empty()
    {
        Only("version: 1\negress:\n  dns:\n    resolvers:\n", "empty-destinations", 4, 15);
    }

    // ---- file level -------------------------------------------------------------------------------------

    [Fact]
    public void Invalid_utf8_is_located_at_the_byte()
    {
        byte[] bytes = [.. "version: 1\ntable: n"u8, 0xFF, .. "x\n"u8];
        var e = Assert.Throws<PolicyException>(() => PolicyLoader.Load(bytes, FileName));
        var d = Assert.Single(e.Diagnostics);
        Assert.Equal("invalid-utf8", d.Code);
        Assert.Equal(new SourceLocation(FileName, 2, 9), d.Location);
    }

    [Fact]
    public void Invalid_utf8_after_multibyte_characters_counts_characters()
    {
        byte[] bytes = [.. "version: 1\n# é\n# éé"u8, 0xC3, 0x28, .. "\n"u8];
        var e = Assert.Throws<PolicyException>(() => PolicyLoader.Load(bytes, FileName));
        Assert.Equal(new SourceLocation(FileName, 3, 5), Assert.Single(e.Diagnostics).Location);
    }

    [Fact]
    public void Utf8_bom_is_accepted()
    {
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. "version: 1\n"u8];
        Assert.Equal("netlinkfence", PolicyLoader.Load(bytes, FileName).Table);
    }

    [Fact]
    public void Yaml_syntax_error_is_located_and_readable()
    {
        var e = Fails("version: 1\nlog:\n  prefix: \"EGRESS\n");
        var d = Assert.Single(e.Diagnostics);
        Assert.Equal("yaml-syntax", d.Code);
        Assert.Equal(FileName, d.Location.File);
        Assert.True(d.Location.Line >= 3, d.ToString());
        Assert.DoesNotContain("(Line:", d.Message);
    }

    [Fact]
    public void Yaml_syntax_error_bad_indentation()
    {
        var e = Fails("version: 1\negress:\n  allow: []\n dns: {}\n");
        var d = Assert.Single(e.Diagnostics);
        Assert.Equal("yaml-syntax", d.Code);
        Assert.Equal(4, d.Location.Line);
    }

    [Theory]
    [InlineData("version: 1\n\tegress: {}\n", 2, 1)]                                                       // YamlDotNet: 1:10
    [InlineData("version: 1\negress:\n\tallow: []\n", 3, 1)]                                               // YamlDotNet: 1:1
    [InlineData("version: 1\negress:\n  allow:\n    - name: a\n\t  to: [10.0.0.1]\n      tcp: [443]\n", 5, 1)]  // 4:13
    [InlineData("version: 1\negress:\n  allow:\n    - name: a\n      to: [10.0.0.1]\n    \t  tcp: [443]\n", 6, 5)]
    [InlineData("version: 1\negress:\n  allow:\n    - name: a\n      to:\n\t- 10.0.0.1\n      tcp: [443]\n", 6, 1)]
    [InlineData("version: 1\negress:\n  allow:\n\t# a comment\n    - name: a\n      to: [10.0.0.1]\n      tcp: [443]\n", 4, 1)]
    [InlineData("version: 1\negress:\n  allow:\n    - name: a\n      to: [10.0.0.1]\n      tcp: [443]\n  \t\n", 7, 3)]  // a blank line
    [InlineData("version: 1\negress:\n  allow:\n    - name: a\n      to: [10.0.0.1,\n\t 10.0.0.2]\n      tcp: [443]\n", 6, 1)]  // crashes YamlDotNet
    [InlineData("version: 1\r\negress:\r\n\tallow: []\r\n", 3, 1)]                                     // CRLF
    public void A_tab_in_the_indentation_is_reported_where_it_is(string yaml, int line, int column)
    {
        var d = Only(yaml, "yaml-syntax", line, column);
        Assert.Contains("a tab in the indentation", d.Message);
        Assert.Contains("spaces", d.Fix);
    }

    [Theory]
    [InlineData("version: 1\negress:\n  allow:\n    - name: a\n      to: [1.2.3.4\n", 5, 11, '[')]                                  // YamlDotNet: 6:1
    [InlineData("version: 1\negress:\n  allow:\n    - name: a\n      to: [1.2.3.4\n      tcp: [443]\n    - name: b\n", 5, 11, '[')]  // crashes it
    [InlineData("version: 1\ndefine:\n  x: {a: 1\negress:\n  allow: []\n", 3, 6, '{')]
    [InlineData("version: 1\negress:\n  allow:\n    - name: a\n      to: [1.2.3.4, [5.6.7.8]\n      tcp: [443]\n", 5, 11, '[')]
    [InlineData("version: 1\nlog:\n  prefix: \"a[b # c\"  # a [ in a comment\n  rate: [10/second\n", 4, 9, '[')]   // quoted and commented brackets
    public void A_bracket_that_is_never_closed_is_reported_where_it_opens(string yaml, int line, int column, char bracket)
    {
        var d = Only(yaml, "yaml-syntax", line, column);
        Assert.Equal($"not valid YAML: this '{bracket}' is never closed", d.Message);
        Assert.Contains($"with '{(bracket == '[' ? ']' : '}')}'", d.Fix);
    }

    [Fact]
    public void A_tab_after_the_indentation_is_no_error_and_a_tab_later_in_the_file_does_not_move_another_error()
    {
        Assert.Single(Load("version: 1\negress:\n  allow:\n    - name: a\n      to: [10.0.0.1]\n      tcp: [443]\t# https\n").Egress);
        var d = Only("version: 1\nlog:\n  prefix: \"EGRESS\n  rate: 1/second\n\n\n\t\n", "yaml-syntax", 3, 11);
        Assert.DoesNotContain("tab", d.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("\n\n")]
    public void Empty_file(string text)
    {
        Only(text, "empty", 1, 1);
    }

    [Fact]
    public void Multiple_documents()
    {
        var d = Only("version: 1\n---\nversion: 1\n", "multiple-documents", 3, 1);
        Assert.Contains("---", d.Fix);
    }

    [Theory]
    [InlineData("- version: 1\n")]
    [InlineData("version 1\n")]
    public void Root_that_is_not_a_mapping(string text)
    {
        Only(text, "not-a-mapping", 1, 1);
    }

    [Fact]
    public void Section_that_is_not_a_mapping()
    {
        Only("version: 1\nlog: EGRESS\n", "not-a-mapping", 2, 6);
    }

    [Fact]
    public void Nested_list_where_a_flat_list_is_expected()
    {
        var d = Only(Egress("    - name: x\n      to: [[203.0.113.7]]\n      tcp: [443]\n"), "not-a-scalar", 5, 12);
        Assert.Contains("flat list", d.Message);
    }

    [Fact]
    public void Mapping_where_a_value_is_expected()
    {
        Only("version: 1\ntable: { name: x }\n", "not-a-scalar", 2, 8);
    }

    [Fact]
    public void Empty_value_inside_a_list()
    {
        Only(Egress("    - name: x\n      to: [203.0.113.7, \"\"]\n      tcp: [443]\n"), "empty-value", 5, 25);
    }

    [Theory]
    [InlineData(65)]
    [InlineData(300_000)] // YamlDotNet builds nodes recursively: this used to overflow the stack and kill the process
    public void Absurd_nesting_is_an_error_not_a_crash(int depth)
    {
        string yaml = "version: 1\ntable: " + new string('[', depth) + new string(']', depth) + "\n";
        var d = Only(yaml, "too-deep", 2, 8 + 63); // the root mapping is level 1, so the 64th bracket is level 65
        Assert.Contains("deeper than 64", d.Message);
    }

    [Fact]
    public void Yaml_anchors_and_aliases_work_for_flat_lists()
    {
        string yaml = "version: 1\ndefine:\n  web: &web [203.0.113.7]\negress:\n  allow:\n    - { name: a, to: *web, tcp: [443] }\n";
        Assert.Equal("203.0.113.7", Assert.Single(Assert.Single(PolicyLoader.Load(yaml, FileName).Egress).Peers).Text);
    }

    [Fact]
    public void An_alias_of_no_anchor_is_located_where_it_is_written()
    {
        // YamlDotNet reports it at 1:1, once the whole document is read.
        string yaml = Egress("    - { name: a, to: [203.0.113.7], tcp: &web [443] }\n    - { name: b, to: [203.0.113.8], tcp: *wbe }\n");
        var d = OnlyAt(yaml, "undefined-alias", "*wbe");
        Assert.Equal("alias '*wbe' refers to no anchor: no value above it is marked '&wbe'", d.Message);
        Assert.Contains("'&wbe'", d.Fix);
    }

    [Fact]
    public void An_alias_before_its_anchor_is_located_too()
    {
        string yaml = Egress("    - { name: a, to: [203.0.113.7], tcp: *web }\n    - { name: b, to: [203.0.113.8], tcp: &web [443] }\n");
        OnlyAt(yaml, "undefined-alias", "*web");
    }

    [Fact]
    public void A_merge_key_is_refused_with_its_location_not_hidden_as_an_unknown_key()
    {
        string yaml = Egress("    - &base { name: a, to: [203.0.113.7], tcp: [443] }\n    - name: b\n      <<: *base\n      to: [203.0.113.8]\n      tcp: [80]\n");
        var d = OnlyAt(yaml, "merge-key", "<<");
        Assert.Contains("merge key", d.Message);
    }

    [Fact]
    public void An_error_in_an_aliased_value_is_listed_once_however_often_it_is_aliased()
    {
        // The reader visits the anchored node once per alias; the same error at the same place is one diagnostic.
        string yaml = Egress("    - { name: a, to: [203.0.113.7], tcp: &bad [99999] }\n" +
            "    - { name: b, to: [203.0.113.8], tcp: *bad }\n    - { name: c, to: [203.0.113.9], tcp: *bad }\n");
        Assert.Equal("port 99999 is out of range", OnlyAt(yaml, "bad-port", "99999").Message);
    }

    [Fact]
    public void Bad_table_name()
    {
        Only("version: 1\ntable: \"my table\"\n", "bad-table-name", 2, 8);
    }

    [Fact]
    public void Missing_file()
    {
        var e = Assert.Throws<PolicyException>(() => PolicyLoader.LoadFile(Path.Combine(Path.GetTempPath(), Guid.NewGuid() + ".yaml")));
        Assert.Equal("file-not-found", Assert.Single(e.Diagnostics).Code);
    }

    // ---- all at once ------------------------------------------------------------------------------------

    [Fact]
    public void A_file_with_several_errors_reports_all_of_them_in_file_order()
    {
        const string yaml = """
            version: 1
            tabel: netlinkfence
            define:
              collector: 192.168.1.20
            log:
              prefix: "EGRESS-DENIED: "
              rate: 10/sec
            egress:
              dns:
                resolvers: [$resolver]
              allow:
                - name: ironclaw-control
                  to: [203.0.113.50/24]
                  tcp: [443, 0]
                - name: syslog-tls
                  to: [$colector]
                  tcp: [6514]
                - name: syslog-tls
                  to: [192.168.1.21]
                  udp: [65536]
            """;
        var e = Fails(yaml);
        Assert.Equal(
            [
                ("unknown-key", 2, 1), ("bad-log-rate", 7, 9), ("undefined-variable", 10, 17), ("bad-address", 13, 12),
                ("bad-port", 14, 18), ("undefined-variable", 16, 12), ("duplicate-name", 18, 7), ("bad-port", 20, 13),
            ],
            e.Diagnostics.Select(d => (d.Code, d.Location.Line, d.Location.Column)));
        Assert.Contains("did you mean 'table'?", e.Diagnostics[0].Fix);
        Assert.Contains("did you mean '$collector'?", e.Diagnostics[5].Fix);
        Assert.Contains("203.0.113.0/24", e.Diagnostics[3].Fix);
        // The exception's message is the whole report, one line each.
        Assert.Equal(8, e.Message.Split(Environment.NewLine).Length);
    }

    // ---- the example --------------------------------------------------------------------------------------

    [Fact]
    public void The_example_loads_to_the_expected_model()
    {
        var policy = PolicyLoader.LoadFile(ExamplePath);
        Assert.Equal("netlinkfence", policy.Table);
        Assert.Equal(new LogSettings("EGRESS-DENIED: ", 10, 1, null), policy.Log);
        var pin = Assert.Single(policy.Hosts);
        Assert.Equal("api.ironclaw.example", pin.Key);
        Assert.Equal([IPAddress.Parse("203.0.113.50")], pin.Value);
        Assert.Equal([Destination.ForNetwork(IPNetwork.Parse("192.168.1.10/32"))], policy.Resolvers);
        Assert.Equal(
            [
                new AllowEntry("ironclaw-control", [Destination.ForHost("api.ironclaw.example")], [new PortRange(443, 443)], []),
                new AllowEntry("syslog-tls", [Destination.ForNetwork(IPNetwork.Parse("192.168.1.20/32"))], [new PortRange(6514, 6514)], []),
            ],
            policy.Egress);
        Assert.Empty(policy.Input);
        Assert.Equal(ExamplePath, policy.Source);
        // Locations point into the file.
        Assert.Equal(23, policy.Egress[0].Location.Line);
        Assert.Equal(7, policy.Egress[0].Location.Column);
    }

    [Fact]
    public void The_example_resolves_from_its_pins_without_dns()
    {
        var policy = PolicyLoader.LoadFile(ExamplePath);
        var resolved = ResolvedPolicy.ResolveAsync(policy, new NoDns()).GetAwaiter().GetResult();
        var name = Assert.Single(resolved.Names).Value;
        Assert.Equal(ResolutionSource.Pin, name.Source);
        Assert.Equal([IPAddress.Parse("203.0.113.50")], name.Addresses);
    }

    [Fact]
    public void Load_from_bytes_and_from_text_agree()
    {
        string text = File.ReadAllText(ExamplePath);
        Assert.Equal(PolicyLoader.Load(text, "x"), PolicyLoader.Load(Encoding.UTF8.GetBytes(text), "x"));
    }
}
