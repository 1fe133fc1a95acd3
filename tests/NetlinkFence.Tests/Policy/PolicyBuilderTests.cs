using System.Net;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using static NetlinkFence.Tests.Policy.PolicyTestSupport;

namespace NetlinkFence.Tests.Policy;

/// <summary>
/// <see cref="PolicyBuilder"/> builds the same policy as the loader (equal model, identical transaction bytes) and
/// refuses the same mistakes with the same codes.
/// </summary>
public sealed class PolicyBuilderTests
{
    /// <summary>examples/ironclaw-agent.yaml, in code.</summary>
    private static PolicyBuilder Example() => new PolicyBuilder()
        .Table("netlinkfence")
        .Define("ironclaw", "203.0.113.50")
        .Define("resolvers", ["192.168.1.10"])
        .Define("collector", "192.168.1.20")
        .Pin("api.ironclaw.example", "$ironclaw")
        .Log("EGRESS-DENIED: ", "10/second")
        .Resolvers("$resolvers")
        .AllowEgress("ironclaw-control", to: ["api.ironclaw.example"], tcp: [443])
        .AllowEgress("syslog-tls", to: ["$collector"], tcp: [6514]);

    private static byte[] Encode(CompiledPolicy compiled)
    {
        using var batch = new BatchBuffer();
        int[] map = [];
        TransactionEncoder.Encode(compiled.ToReplaceTransaction(), batch, 1, null, ref map);
        var bytes = new MemoryStream();
        foreach (var segment in batch.Segments())
            bytes.Write(segment.Span);
        return bytes.ToArray();
    }

    private static CompiledPolicy Compile(EgressPolicy policy, IHostResolver? dns = null) =>
        PolicyCompiler.Compile(ResolvedPolicy.ResolveAsync(policy, dns ?? new NoDns()).GetAwaiter().GetResult());

    private static PolicyException Refused(PolicyBuilder builder) => Assert.Throws<PolicyException>(builder.Build);

    [Fact]
    public void The_example_built_in_code_equals_the_loaded_file()
    {
        var loaded = PolicyLoader.LoadFile(ExamplePath);
        var built = Example().Build();
        Assert.Equal(loaded, built);
        Assert.Equal("(builder)", built.Source);
    }

    [Fact]
    public void The_example_built_in_code_compiles_to_the_same_transaction_bytes()
    {
        var fromFile = Compile(PolicyLoader.LoadFile(ExamplePath));
        var fromCode = Compile(Example().Build());
        byte[] a = Encode(fromFile), b = Encode(fromCode);
        Assert.True(a.Length > 500, "the transaction is not trivially empty");
        Assert.Equal(a, b);
        Assert.Equal(fromFile.Rules.Count, fromCode.Rules.Count);
        Assert.All(fromFile.Rules.Zip(fromCode.Rules), p => Assert.True(p.First.Rule.SameConfiguration(p.Second.Rule)));
        Assert.All(fromFile.Sets.Zip(fromCode.Sets), p => Assert.True(p.First.Set.SameConfiguration(p.Second.Set)));
    }

    [Fact]
    public void Builder_and_loader_agree_on_a_richer_policy_with_dns_names_ranges_ipv6_and_input()
    {
        const string yaml = """
            version: 1
            table: agent
            define:
              mirrors: [deb.debian.org, security.debian.org]
              admin: [10.0.0.0/8, "2001:db8:1::/48"]
            hosts:
              api.example: [203.0.113.50, "2001:db8::50"]
            log:
              prefix: "EGRESS-DENIED: "
              rate: 6/minute
              group: 100
            input:
              allow:
                - { name: ssh, from: $admin, tcp: [22] }
                - { tcp: [9100] }
            egress:
              dns:
                resolvers: [192.168.1.10, "2001:db8::53"]
              allow:
                - { name: api, to: [api.example], tcp: [443, 8443] }
                - { name: updates, to: $mirrors, tcp: [80, 443], window: 45m }
                - { name: ntp, to: [192.0.2.0/24, 198.51.100.8-198.51.100.20], udp: [123], tcp: [4000-4010] }
            """;
        var built = new PolicyBuilder()
            .Table("agent")
            .Define("mirrors", "deb.debian.org", "security.debian.org")
            .Define("admin", "10.0.0.0/8", "2001:db8:1::/48")
            .Pin("api.example", "203.0.113.50", "2001:db8::50")
            .Log("EGRESS-DENIED: ", "6/minute", 100)
            .AllowInput("ssh", from: ["$admin"], tcp: [22])
            .AllowInput(null, from: null, tcp: [9100])
            .Resolvers("192.168.1.10", "2001:db8::53")
            .AllowEgress("api", to: ["api.example"], tcp: [443, 8443])
            .AllowEgress("updates", to: ["$mirrors"], tcp: [80, 443])
            .Window("updates", "45m")
            .AllowEgress("ntp", to: ["192.0.2.0/24", "198.51.100.8-198.51.100.20"], tcp: [new PortRange(4000, 4010)], udp: [new PortRange(123, 123)])
            .Build();
        var loaded = PolicyLoader.Load(yaml, FileName);
        Assert.Equal(loaded, built);

        var answers = new Dictionary<string, IPAddress[]>
        {
            ["deb.debian.org"] = [IPAddress.Parse("151.101.2.132"), IPAddress.Parse("2a04:4e42::644")],
            ["security.debian.org"] = [IPAddress.Parse("151.101.66.132")],
        };
        var dnsA = new FakeDns(answers);
        var dnsB = new FakeDns(answers);
        Assert.Equal(Encode(Compile(loaded, dnsA)), Encode(Compile(built, dnsB)));
        Assert.Equal(["deb.debian.org", "security.debian.org"], dnsA.Asked); // the pinned name is never asked
    }

    [Fact]
    public void Order_of_calls_does_not_matter()
    {
        var reordered = new PolicyBuilder()
            .AllowEgress("ironclaw-control", to: ["api.ironclaw.example"], tcp: [443])
            .Resolvers("$resolvers")
            .Log("EGRESS-DENIED: ", ratePerSecond: 10)
            .AllowEgress("syslog-tls", to: ["$collector"], tcp: [6514])
            .Pin("api.ironclaw.example", "$ironclaw")
            .Define("collector", "192.168.1.20")
            .Define("resolvers", "192.168.1.10")
            .Define("ironclaw", "203.0.113.50")
            .Build();
        Assert.Equal(Example().Build(), reordered);
    }

    [Fact]
    public void Undefined_variable_has_the_same_code_and_suggestion_as_in_a_file()
    {
        var d = Assert.Single(Refused(new PolicyBuilder().Define("collector", "192.168.1.20")
            .AllowEgress("syslog", to: ["$colector"], tcp: [6514])).Diagnostics);
        Assert.Equal("undefined-variable", d.Code);
        Assert.Contains("did you mean '$collector'?", d.Fix);
        Assert.Equal("(builder) AllowEgress(\"syslog\") to[0]", d.Location.ToString());
    }

    [Fact]
    public void Empty_variable_and_empty_lists_are_refused()
    {
        var e = Refused(new PolicyBuilder().Define("none", [])
            .AllowEgress("a", to: ["$none"], tcp: [443])
            .AllowEgress("b", to: [], tcp: [443])
            .AllowInput("c", from: [], tcp: [22])
            .Resolvers());
        // Checked in the loader's order (input, resolvers, egress), each located at the call.
        Assert.Equal(
            [
                ("empty-destinations", "(builder) AllowInput(\"c\")"), ("empty-destinations", "(builder) Resolvers()"),
                ("empty-variable", "(builder) AllowEgress(\"a\") to[0]"), ("empty-destinations", "(builder) AllowEgress(\"b\")"),
            ],
            e.Diagnostics.Select(d => (d.Code, d.Location.ToString())));
    }

    [Fact]
    public void Address_errors_are_the_loaders()
    {
        var e = Refused(new PolicyBuilder().AllowEgress("x", to: ["10.0.0.1/8", "10/8", "2001:db8::/129", "10.0.0.9-10.0.0.1"], tcp: [443]));
        Assert.All(e.Diagnostics, d => Assert.Equal("bad-address", d.Code));
        Assert.Contains("write 10.0.0.0/8", e.Diagnostics[0].Fix);
        Assert.Contains("write 10.0.0.1-10.0.0.9", e.Diagnostics[3].Fix);
        Assert.Equal(4, e.Diagnostics.Count);
    }

    [Fact]
    public void Port_errors_are_the_loaders()
    {
        var e = Refused(new PolicyBuilder()
            .AllowEgress("x", to: ["203.0.113.7"], tcp: [0, 65536, -1])
            .AllowEgress("y", to: ["203.0.113.7"], tcp: [new PortRange(2000, 1000)])
            .AllowEgress("z", to: ["203.0.113.7"]));
        Assert.Equal(["bad-port", "bad-port", "bad-port", "bad-port", "no-ports"], e.Diagnostics.Select(d => d.Code));
        Assert.Contains("write 1000-2000", e.Diagnostics[3].Fix);
    }

    [Fact]
    public void Names_log_and_table_errors_are_the_loaders()
    {
        var e = Refused(new PolicyBuilder()
            .Table("bad table")
            .Log(new string('A', 128), ratePerSecond: 0)
            .Pin("api.example", "api2.example")
            .AllowEgress("Web", to: ["203.0.113.7"], tcp: [443])
            .AllowEgress("dup", to: ["203.0.113.7"], tcp: [443])
            .AllowEgress("dup", to: ["203.0.113.8"], tcp: [443]));
        Assert.Equal(["bad-table-name", "bad-pin", "bad-log-prefix", "bad-log-rate", "bad-entry-name", "duplicate-name"],
            e.Diagnostics.Select(d => d.Code));
    }

    [Fact]
    public void Window_errors_are_the_loaders()
    {
        var ok = new PolicyBuilder().AllowEgress("updates", to: ["deb.debian.org"], tcp: [443]).Window("updates", TimeSpan.FromMinutes(30)).Build();
        Assert.Equal(TimeSpan.FromMinutes(30), ok.Egress[0].Window);
        var e = Refused(new PolicyBuilder()
            .AllowEgress("a", to: ["203.0.113.7"], tcp: [443]).Window("a", "25h")
            .AllowEgress("b", to: ["203.0.113.7"], tcp: [443]).Window("b", "soon")
            .AllowEgress("c", to: ["203.0.113.7"], tcp: [443]).Window("c", TimeSpan.Zero)
            .Window("nobody", "5m"));
        Assert.Equal(["bad-window", "bad-window", "bad-window", "window-unknown-entry"], e.Diagnostics.Select(d => d.Code));
        Assert.Contains("Window(\"nobody\")", e.Diagnostics[3].Location.ToString());
    }

    [Fact]
    public void A_window_entry_compiles_to_no_grants_it_is_closed_after_apply()
    {
        var policy = new PolicyBuilder()
            .AllowEgress("control", to: ["203.0.113.50"], tcp: [443])
            .AllowEgress("updates", to: ["203.0.113.80"], tcp: [80]).Window("updates", "30m")
            .Build();
        var compiled = Compile(policy);
        Assert.All(compiled.Grants, g => Assert.Equal("control", g.Entry));
        Assert.Single(compiled.Grants);
        var allow = Assert.Single(compiled.Sets, s => s.Set.Name == "allow_v4");
        Assert.All(allow.Elements, e => Assert.Equal("control", e.Comment));
        Assert.NotEmpty(allow.Elements);
    }

    [Fact]
    public void Bad_rate_text_and_duplicate_definitions()
    {
        var e = Refused(new PolicyBuilder().Log("X: ", "10/sec").Define("a", "1.2.3.4").Define("a", "1.2.3.5").Define("b", "$a"));
        Assert.Equal(["duplicate-variable", "nested-variable", "bad-log-rate"], e.Diagnostics.Select(d => d.Code));
    }

    [Fact]
    public void A_policy_with_nothing_allowed_is_valid_default_deny()
    {
        var policy = new PolicyBuilder().Build();
        Assert.Equal(PolicyLoader.Load("version: 1\n", FileName), policy);
        Assert.Empty(policy.Egress);
    }

    [Fact]
    public void Null_arguments_are_programming_errors()
    {
        Assert.Throws<ArgumentNullException>(() => new PolicyBuilder().AllowEgress(null!, ["1.2.3.4"], tcp: [1]));
        Assert.Throws<ArgumentNullException>(() => new PolicyBuilder().Define("a", [null!]));
    }
}
