using NetlinkFence.Policy;
using NetlinkFence.Policy.Import;
using static NetlinkFence.Tests.Import.ImportTestSupport;

namespace NetlinkFence.Tests.Import;

/// <summary>
/// `import iptables --ipset FILE`: rules that match ipsets (<c>-m set --match-set NAME dst|src</c>) take the members
/// of the sets from <c>ipset save</c> output. Traffic proof: <c>IpsetDifferentialTests</c>.
/// </summary>
public sealed class IpsetImportTests
{
    // As Debian 12's ipset 7.17 writes them (bucketsize and initval included).
    private const string Sets = """
        create mirrors hash:net family inet hashsize 1024 maxelem 65536 comment bucketsize 12 initval 0x550be6f3
        add mirrors 203.0.113.7
        add mirrors 198.51.100.16/28 comment "cdn a"
        create res-v4 hash:ip family inet hashsize 1024 maxelem 65536 netmask 24 bucketsize 12 initval 0xd94ba7d6
        add res-v4 10.99.1.0
        create col bitmap:ip range 192.168.1.0-192.168.1.255
        add col 192.168.1.11
        add col 192.168.1.20
        create ban hash:ip family inet hashsize 1024 maxelem 65536 timeout 300 bucketsize 12 initval 0x942bae26
        add ban 192.0.2.4 timeout 299
        create nets hash:net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0xb5b948ff
        add nets 10.1.0.0/16 nomatch
        add nets 10.0.0.0/8
        create v6 hash:ip family inet6 hashsize 1024 maxelem 65536 bucketsize 12 initval 0x05a10186
        add v6 2001:db8::50
        create pairs hash:ip,port family inet hashsize 1024 maxelem 65536
        add pairs 203.0.113.9,tcp:443
        add pairs 203.0.113.9,tcp:8001
        add pairs 203.0.113.9,tcp:8000
        add pairs 198.51.100.20,tcp:443
        add pairs 192.168.1.20,tcp:6514
        add pairs 192.168.1.20,udp:514
        add pairs 192.168.1.10,udp:53
        add pairs 192.168.1.10,tcp:53
        create mgmt hash:net,port family inet hashsize 1024 maxelem 65536
        add mgmt 10.20.0.0/16,tcp:22
        add mgmt 10.20.0.0/16,udp:161
        add mgmt 198.51.100.7,tcp:9100
        add mgmt 198.51.100.7,icmp:echo-request
        create lists list:set size 8
        create empty hash:ip family inet hashsize 1024 maxelem 65536
        create both list:set size 8
        add both mirrors
        add both v6
        create services list:set size 8
        add services pairs
        create mixed list:set size 8
        add mixed mirrors
        add mixed pairs
        create timed list:set size 8
        add timed col
        add timed ban
        create only6 list:set size 8
        add only6 v6
        """;

    private static IptablesImportResult Import(string rules, string sets = Sets, IReadOnlyDictionary<string, string>? defines = null, bool partial = false) =>
        IptablesImporter.Import(new IptablesImportRequest
        {
            IPv4 = new IptablesSource("r.rules", Filter(rules)),
            Ipsets = new IptablesSource("sets.save", sets + "\n"),
            Defines = defines ?? new Dictionary<string, string>(),
            Partial = partial,
            PolicyName = "r.yaml",
        });

    /// <summary>An empty IPv4 file and an ip6tables file with neighbour discovery and <paramref name="rule"/>.</summary>
    private static IptablesImportResult ImportIPv6(string rule, string sets) =>
        IptablesImporter.Import(new IptablesImportRequest
        {
            IPv4 = new IptablesSource("r.rules", Filter("")),
            IPv6 = new IptablesSource("r6.rules", "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\n"
                + "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT\n"
                + "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j ACCEPT\n-A OUTPUT -o lo -j ACCEPT\n"
                + "-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT\n"
                + "-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j ACCEPT\n" + rule + "\nCOMMIT\n"),
            Ipsets = new IptablesSource("sets.save", sets),
            PolicyName = "r.yaml",
        });

    private static PolicyDiagnostic Refused(string rule, string sets = Sets) =>
        Assert.Single(Assert.Throws<PolicyException>(() => Import(rule, sets)).Diagnostics);

    [Fact]
    public void A_set_a_rule_matches_becomes_a_define_the_entries_name()
    {
        var result = Import("-A OUTPUT -p tcp -m set --match-set mirrors dst -m tcp --dport 443 -j ACCEPT\n"
            + "-A OUTPUT -p tcp -m set --match-set res-v4 dst -m tcp --dport 80 -j ACCEPT\n"
            + "-A OUTPUT -p tcp -m set --match-set col dst -m tcp --dport 6514 -j ACCEPT\n"
            + "-A INPUT -p tcp -m set --match-set mirrors src -m tcp --dport 22 -j ACCEPT");
        Assert.Contains("  # ipset mirrors (hash:net, sets.save:1, 2 members); used at r.rules:9:37, r.rules:12:36\n  mirrors: [203.0.113.7, 198.51.100.16/28]\n", result.Yaml);
        // netmask 24: the member stands for its /24 (the set matches 10.99.1.x); the variable is a policy name ('-' -> '_').
        Assert.Contains("  res_v4: 10.99.1.0/24\n", result.Yaml);
        Assert.Contains("  col: [192.168.1.11, 192.168.1.20]\n", result.Yaml);
        Assert.Contains("to: [$mirrors]", result.Yaml);
        Assert.Contains("from: [$mirrors]", result.Yaml);
        var https = Assert.Single(result.Policy.Egress, e => e.Tcp.Contains(new PortRange(443, 443)));
        Assert.Equal(["203.0.113.7/32", "198.51.100.16/28"], https.Peers.Select(p => p.Network.ToString()));
        Assert.Equal("10.99.1.0/24", Assert.Single(Assert.Single(result.Policy.Egress, e => e.Tcp.Contains(new PortRange(80, 80))).Peers).Network.ToString());
    }

    [Fact]
    public void A_set_variable_keeps_apart_from_a_define_of_the_same_name()
    {
        var result = Import("-A OUTPUT -p tcp -m set --match-set mirrors dst -m tcp --dport 443 -j ACCEPT\n-A OUTPUT -p tcp -d $mirrors --dport 8443 -j ACCEPT",
            defines: new Dictionary<string, string> { ["mirrors"] = "192.0.2.10" });
        Assert.Contains("  ipset_mirrors: [203.0.113.7, 198.51.100.16/28]\n", result.Yaml);
        Assert.Contains("  mirrors: 192.0.2.10\n", result.Yaml);
        Assert.Contains("to: [$ipset_mirrors]", result.Yaml);
    }

    [Theory]
    [InlineData("-A OUTPUT -p tcp -m set --match-set ban dst --dport 443 -j ACCEPT", "its members time out")]
    [InlineData("-A OUTPUT -p tcp -m set --match-set nets dst --dport 443 -j ACCEPT", "member 10.1.0.0/16 is 'nomatch'")]
    [InlineData("-A OUTPUT -p tcp -m set --match-set lists dst --dport 443 -j ACCEPT", "ipset 'lists' (sets.save:30): it holds no set of family inet, so a rule of that family matches nothing")]
    [InlineData("-A OUTPUT -p tcp -m set --match-set only6 dst --dport 443 -j ACCEPT", "it holds no set of family inet")]
    [InlineData("-A OUTPUT -p tcp -m set --match-set timed dst --dport 443 -j ACCEPT", "its set 'ban' (sets.save:9): its members time out")]
    [InlineData("-A OUTPUT -m set --match-set mixed dst,dst -j ACCEPT", "it holds address sets (mirrors) and address-and-port sets (pairs)")]
    [InlineData("-A OUTPUT -p tcp -m set --match-set services dst --dport 443 -j ACCEPT", "the importer reads 'dst,dst' (OUTPUT) and 'src,dst' (INPUT)")]
    [InlineData("-A OUTPUT -p tcp -m set --match-set mirrors dst,dst --dport 443 -j ACCEPT", "the importer reads 'src' or 'dst'")]
    [InlineData("-A OUTPUT -p tcp -m set --match-set pairs dst -j ACCEPT", "the importer reads 'dst,dst' (OUTPUT) and 'src,dst' (INPUT)")]
    [InlineData("-A OUTPUT -p tcp -m set --match-set pairs dst,dst --dport 443 -j ACCEPT", "both match the port")]
    [InlineData("-A OUTPUT -p tcp -m set --match-set pairs dst,dst -m tcp --dport 443 -j ACCEPT", "both match the port")]
    [InlineData("-A OUTPUT -p icmp -m set --match-set pairs dst,dst -j ACCEPT", "no member of ipset 'pairs' is icmp: the rule matches nothing")]
    [InlineData("-A INPUT -m set --match-set mgmt src,dst -j ACCEPT", "member 198.51.100.7,icmp:0 of ipset 'mgmt' is icmp: an allow entry has TCP and UDP ports only (add '-p tcp' or '-p udp'")]
    [InlineData("-A OUTPUT -d 192.0.2.1 -m set --match-set pairs dst,dst -j ACCEPT", "match only where they overlap")]
    [InlineData("-A OUTPUT -p tcp -m set ! --match-set mirrors dst --dport 443 -j ACCEPT", "negated")]
    [InlineData("-A OUTPUT -p tcp -m set --match-set empty dst --dport 443 -j ACCEPT", "has no members: the rule matches nothing")]
    [InlineData("-A OUTPUT -p tcp -d 10.0.0.1 -m set --match-set mirrors dst --dport 443 -j ACCEPT", "match only where they overlap")]
    public void A_set_a_policy_cannot_take_as_an_address_list_is_refused_with_the_reason(string rule, string reason)
    {
        var d = Refused(rule);
        Assert.Equal((FirstRuleLine, "unsupported-rule"), (d.Location.Line, d.Code));
        Assert.Contains(reason, d.Message);
        // --partial leaves the rule out, which never allows more than the ruleset.
        Assert.Single(Import(rule, partial: true).NotImported);
    }

    [Theory]
    [InlineData("-A OUTPUT -p tcp -m set --match-set nope dst --dport 443 -j ACCEPT", "ipset-missing", 37, "is not in the ipset file")]
    [InlineData("-A OUTPUT -p tcp -m set --match-set v6 dst --dport 443 -j ACCEPT", "iptables-bad-value", 37, "of family inet6, in an iptables file")]
    [InlineData("-A OUTPUT -p tcp --match-set mirrors dst --dport 443 -j ACCEPT", "iptables-bad-value", 18, "needs '-m set' before it")]
    public void A_set_the_rule_cannot_match_is_an_error_at_the_rule(string rule, string code, int column, string message)
    {
        var d = Refused(rule);
        Assert.Equal((new SourceLocation("r.rules", FirstRuleLine, column), code), (d.Location, d.Code));
        Assert.Contains(message, d.Message);
    }

    [Fact]
    public void The_recent_matchs_set_option_is_not_taken_for_an_ipset()
    {
        // -m recent --set (SSH brute-force counting) has nothing to do with ipsets: refused as an unknown match, as before.
        var d = Refused("-A INPUT -p tcp --dport 22 -m recent --set --name ssh -j ACCEPT");
        Assert.Equal("unsupported-rule", d.Code);
        Assert.Contains("-m recent", d.Message);
    }

    [Fact]
    public void Without_an_ipset_file_a_set_match_says_where_its_members_are()
    {
        var e = Assert.Throws<PolicyException>(() => ImportText(Filter("-A OUTPUT -p tcp -m set --match-set mirrors dst --dport 443 -j ACCEPT")));
        var d = Assert.Single(e.Diagnostics);
        Assert.Equal("ipset-missing", d.Code);
        Assert.Contains("--ipset FILE, the output of `ipset save`", d.Fix);
    }

    [Fact]
    public void A_set_of_addresses_and_ports_becomes_an_entry_for_each_list_of_ports_its_addresses_share()
    {
        var result = Import("-A OUTPUT -m set --match-set pairs dst,dst -j ACCEPT\n"
            + "-A INPUT -p tcp -m set --match-set mgmt src,dst -j ACCEPT\n-A INPUT -p udp -m set --match-set mgmt src,dst -j ACCEPT");
        // Each address allows just its own ports: an entry allows every port it lists to every address it lists.
        Assert.Equal(["203.0.113.9/32 tcp 443,8000-8001 udp -", "198.51.100.20/32 tcp 443 udp -", "192.168.1.20/32 tcp 6514 udp 514"],
            result.Policy.Egress.Select(Summary));
        // TCP and UDP 53 to one address and nothing else: a resolver.
        Assert.Equal("192.168.1.10/32", Assert.Single(result.Policy.Resolvers).Network.ToString());
        // -p filters the members: the ICMP member is not the TCP or the UDP rule's, so it refuses neither.
        Assert.Equal(["10.20.0.0/16 tcp 22 udp -", "198.51.100.7/32 tcp 9100 udp -", "10.20.0.0/16 tcp - udp 161"], result.Policy.Input.Select(Summary));
        Assert.Contains("    # r.rules:9: -A OUTPUT -m set --match-set pairs dst,dst -j ACCEPT\n    - name: allow-line-9\n      to: [203.0.113.9]\n      tcp: [443, 8000-8001]\n", result.Yaml);
        Assert.Empty(result.NotImported);

        static string Summary(AllowEntry e) =>
            $"{string.Join(",", e.Peers.Select(p => p.Network))} tcp {Ports(e.Tcp)} udp {Ports(e.Udp)}";
        static string Ports(IEnumerable<PortRange> ports) =>
            string.Join(",", ports.Select(p => p.First == p.Last ? $"{p.First}" : $"{p.First}-{p.Last}")) is { Length: > 0 } text ? text : "-";
    }

    [Fact]
    public void A_line_that_stands_for_several_rules_is_refused_once()
    {
        // -j NFQUEUE is refused at COMMIT, after the line became one rule per list of ports: one diagnostic still.
        var d = Refused("-A OUTPUT -m set --match-set pairs dst,dst -j NFQUEUE");
        Assert.Contains("target NFQUEUE is not a verdict", d.Message);
    }

    [Fact]
    public void A_port_range_and_a_bare_port_are_read_as_ipset_restore_reads_them()
    {
        // 'ipset restore' takes tcp:8000-8002 (one member per port) and a port with no protocol as TCP.
        var result = Import("-A OUTPUT -m set --match-set p dst,dst -j ACCEPT", "create p hash:ip,port\nadd p 192.0.2.1,tcp:8000-8002\nadd p 192.0.2.1,8003\nadd p 192.0.2.1,udp:53");
        var entry = Assert.Single(result.Policy.Egress);
        Assert.Equal([new PortRange(8000, 8003)], entry.Tcp);
        Assert.Equal([new PortRange(53, 53)], entry.Udp);
    }

    [Fact]
    public void A_port_named_by_its_service_is_refused_with_the_reason()
    {
        var d = Refused("-A OUTPUT -m set --match-set p dst,dst -j ACCEPT", "create p hash:ip,port\nadd p 192.0.2.1,tcp:https");
        Assert.Equal("unsupported-rule", d.Code);
        Assert.Contains("names its port; ipset save writes port numbers", d.Message);
    }

    [Theory]
    [InlineData("add b 192.0.2.1", 1, 5, "has no create line before this one")]
    [InlineData("create a hash:ip\nflush a", 2, 1, "is not a line of ipset save output")]
    [InlineData("create a hash:ip\nadd a 192.0.2.x", 2, 7, "is a host name: ipset save writes addresses")]
    [InlineData("create a hash:ip family inet6\nadd a 192.0.2.1", 2, 7, "'192.0.2.1' is an IPv4 address in a set of family inet6")]
    [InlineData("create a hash:ip\ncreate a hash:net", 2, 8, "is created twice")]
    [InlineData("create \"\" hash:ip", 1, 8, "a set with an empty name")]
    [InlineData("create a hash:ip netmask 40", 1, 26, "netmask '40'")]
    [InlineData("create a hash:net\nadd a 10.0.0.9-10.0.0.1", 2, 7, "range '10.0.0.9-10.0.0.1' is reversed")]
    [InlineData("create a hash:net comment\nadd a 10.0.0.1 comment \"open", 2, 24, "a quote that is never closed")]
    [InlineData("create p hash:ip,port\nadd p 192.0.2.1", 2, 7, "has no port: each member of a hash:ip,port set is ADDRESS,PROTOCOL:PORT")]
    [InlineData("create p hash:ip,port\nadd p 192.0.2.1,tcp:70000", 2, 21, "'70000' is not a tcp port")]
    [InlineData("create p hash:ip,port\nadd p 192.0.2.1,udp:90-80", 2, 21, "'90-80' is not a udp port")]
    [InlineData("create p hash:net,port family inet6\nadd p 192.0.2.0/24,tcp:443", 2, 7, "is an IPv4 address in a set of family inet6")]
    [InlineData("create l list:set\nadd l nope", 2, 7, "set 'nope' has no create line before this one")]
    [InlineData("create l list:set\ncreate m list:set\nadd l m", 3, 7, "set 'm' is a list:set, which a list:set cannot hold")]
    [InlineData("create a hash:ip\ncreate l list:set\nadd l a\nadd l a", 4, 7, "set 'a' is already in list 'l'")]
    public void What_ipset_restore_would_refuse_is_an_error_in_the_ipset_file(string sets, int line, int column, string message)
    {
        var e = Assert.Throws<PolicyException>(() => Import("-A OUTPUT -p tcp -d 192.0.2.1 --dport 443 -j ACCEPT", sets));
        var d = Assert.Single(e.Diagnostics);
        Assert.Equal((new SourceLocation("sets.save", line, column), "ipset-bad-line"), (d.Location, d.Code));
        Assert.Contains(message, d.Message);
    }

    [Fact]
    public void An_ipv6_set_serves_the_ip6tables_file()
    {
        var result = ImportIPv6("-A OUTPUT -p tcp -m set --match-set v6 dst -m tcp --dport 443 -j ACCEPT", Sets);
        Assert.Contains("  v6: \"2001:db8::50\"\n", result.Yaml);
        Assert.Equal("2001:db8::50/128", Assert.Single(Assert.Single(result.Policy.Egress).Peers).Network.ToString());
    }

    [Fact]
    public void An_ipv6_address_and_port_set_serves_the_ip6tables_file()
    {
        var result = ImportIPv6("-A OUTPUT -p tcp -m set --match-set p6 dst,dst -j ACCEPT",
            "create p6 hash:ip,port family inet6\nadd p6 2001:db8::1,tcp:443\nadd p6 2001:db8::2,ipv6-icmp:echo-request\nadd p6 2001:db8::1,udp:53\n");
        var entry = Assert.Single(result.Policy.Egress);
        Assert.Equal(("2001:db8::1/128", 443), (Assert.Single(entry.Peers).Network.ToString(), (int)Assert.Single(entry.Tcp).First));
        Assert.Empty(entry.Udp);
        Assert.Contains("      to: [\"2001:db8::1\"]\n", result.Yaml);
    }

    [Fact]
    public void A_list_of_sets_is_the_sets_of_the_rules_family_under_a_variable_of_that_family()
    {
        // 'both' holds an IPv4 and an IPv6 set: the kernel skips the set of the other family, and so does each define.
        var result = Import("-A OUTPUT -p tcp -m set --match-set both dst -m tcp --dport 443 -j ACCEPT");
        Assert.Contains("  # ipset both (list:set of mirrors, sets.save:32, 2 members); used at r.rules:9:37\n  both_v4: [203.0.113.7, 198.51.100.16/28]\n", result.Yaml);
        Assert.Contains("      to: [$both_v4]\n", result.Yaml);
        Assert.DoesNotContain("2001:db8", result.Yaml);
        var v6 = ImportIPv6("-A OUTPUT -p tcp -m set --match-set both dst -m tcp --dport 443 -j ACCEPT", Sets);
        Assert.Contains("  both_v6: \"2001:db8::50\"\n", v6.Yaml);
        Assert.Equal("2001:db8::50/128", Assert.Single(Assert.Single(v6.Policy.Egress).Peers).Network.ToString());
    }

    [Fact]
    public void A_list_of_address_and_port_sets_is_split_as_the_sets_are()
    {
        // 'services' holds 'pairs' alone, of one family: the same entries as the set itself gives.
        var listed = Import("-A OUTPUT -m set --match-set services dst,dst -j ACCEPT");
        var direct = Import("-A OUTPUT -m set --match-set pairs dst,dst -j ACCEPT");
        Assert.Equal(direct.Policy.Egress.Select(Summary), listed.Policy.Egress.Select(Summary));
        Assert.Equal(3, listed.Policy.Egress.Count);
        Assert.Equal("192.168.1.10/32", Assert.Single(listed.Policy.Resolvers).Network.ToString());

        static string Summary(AllowEntry e) => $"{string.Join(",", e.Peers.Select(p => p.Network))} {string.Join(",", e.Tcp)} {string.Join(",", e.Udp)}";
    }

    [Fact]
    public void A_range_member_and_repeated_members_are_kept_once_in_order()
    {
        var result = Import("-A OUTPUT -p tcp -m set --match-set a dst --dport 443 -j ACCEPT",
            "create a hash:net\nadd a 10.0.0.8-10.0.0.12\nadd a 10.0.0.8/30\nadd a 192.0.2.1");
        Assert.Contains("  a: [10.0.0.8/30, 10.0.0.12, 192.0.2.1]\n", result.Yaml);
    }
}
