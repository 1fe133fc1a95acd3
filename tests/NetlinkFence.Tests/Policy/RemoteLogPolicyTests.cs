using System.Net;
using NetlinkFence.Logging.Syslog;
using NetlinkFence.Policy;
using static NetlinkFence.Tests.Policy.PolicyTestSupport;

namespace NetlinkFence.Tests.Policy;

/// <summary><c>log.remote</c>: parsed by the loader and the builder alike, located errors, and lint's reachability check.</summary>
public sealed class RemoteLogPolicyTests
{
    private static string Policy(string remote, string allow = "    - { name: syslog-tls, to: [$collector], tcp: [6514] }\n") => $"""
        version: 1
        define:
          collector: 192.168.1.20
        hosts:
          collector.example: [192.168.1.20]
        log:
          prefix: "EGRESS-DENIED: "
          rate: 10/second
          remote: {remote}
        egress:
          allow:
        {allow}
        """;

    [Fact]
    public void TheFullFormLoadsAndEqualsTheBuildersPolicy()
    {
        string yaml = Policy("{ tls: \"192.168.1.20:6514\", ca: /etc/netlinkfence/ca.pem, cert: /etc/netlinkfence/agent.pem, key: /etc/netlinkfence/agent.key, queue: 500 }");
        var loaded = PolicyLoader.Load(yaml, FileName);
        var remote = loaded.Log.Remote!;
        Assert.Equal(new RemoteLogSettings("192.168.1.20", 6514, "/etc/netlinkfence/ca.pem", "/etc/netlinkfence/agent.pem", "/etc/netlinkfence/agent.key", 500), remote);
        Assert.Equal(new SourceLocation(FileName, Pos(yaml, "{ tls").Line, Pos(yaml, "{ tls").Column), remote.Location);
        var built = new PolicyBuilder().Define("collector", "192.168.1.20").Pin("collector.example", "192.168.1.20")
            .Log("EGRESS-DENIED: ", "10/second").RemoteLog("192.168.1.20:6514", "/etc/netlinkfence/ca.pem", "/etc/netlinkfence/agent.pem", "/etc/netlinkfence/agent.key", 500)
            .AllowEgress("syslog-tls", ["$collector"], tcp: [6514]).Build();
        Assert.Equal(built, loaded);
        Assert.NotEqual(built, PolicyLoader.Load(Policy("{ tls: \"192.168.1.20:6514\", ca: /etc/netlinkfence/ca.pem }"), FileName));
    }

    [Theory]
    [InlineData("\"$collector:6514\"", "192.168.1.20", 6514)]
    [InlineData("\"[2001:db8::20]:6514\"", "2001:db8::20", 6514)]
    [InlineData("collector.example:10514", "collector.example", 10514)]
    public void TheCollectorIsAnAddressANameOrAVariableWithAPort(string tls, string host, int port)
    {
        var remote = PolicyLoader.Load(Policy($"{{ tls: {tls}, ca: /ca.pem }}"), FileName).Log.Remote!;
        Assert.Equal((host, port, RemoteLogSettings.DefaultQueue), (remote.Host, remote.Port, remote.Queue));
    }

    [Theory]
    [InlineData("192.168.1.77", "is not an address:port")]
    [InlineData("2001:db8::1:6514", "an IPv6 address goes in brackets")]
    [InlineData("\"192.168.1.20:0\"", "has no valid port")]
    [InlineData("\"192.168.1.0/24:6514\"", "is a network, not one collector")]
    [InlineData("\"$nowhere:6514\"", "undefined variable '$nowhere'")]
    public void ACollectorThatIsNotAnAddressAndPortIsALocatedError(string tls, string message)
    {
        string yaml = Policy($"{{ tls: {tls}, ca: /ca.pem }}");
        var (line, column) = Pos(yaml, tls);
        var d = Only(yaml, tls.Contains("$nowhere") ? "undefined-variable" : "bad-remote-endpoint", line, column);
        Assert.Contains(message, d.Message);
    }

    [Fact]
    public void FilesMustBeAbsoluteACertificateNeedsItsKeyAndTheQueueIsBounded()
    {
        string relative = Policy("{ tls: \"192.168.1.20:6514\", ca: ca.pem }");
        Assert.Contains("is not an absolute path", Only(relative, "relative-remote-file", Pos(relative, "ca.pem").Line, Pos(relative, "ca.pem").Column).Message);
        string lonely = Policy("{ tls: \"192.168.1.20:6514\", ca: /ca.pem, cert: /agent.pem }");
        Only(lonely, "remote-cert-without-key", Pos(lonely, "/agent.pem").Line, Pos(lonely, "/agent.pem").Column);
        string zero = Policy("{ tls: \"192.168.1.20:6514\", ca: /ca.pem, queue: 0 }");
        Only(zero, "bad-remote-queue", Pos(zero, "0 }").Line, Pos(zero, "0 }").Column);
        string noCa = Policy("{ tls: \"192.168.1.20:6514\" }");
        Only(noCa, "remote-without-ca", Pos(noCa, "{ tls").Line, Pos(noCa, "{ tls").Column);
        string typo = Policy("{ tls: \"192.168.1.20:6514\", ca: /ca.pem, queu: 5 }");
        Assert.Contains("did you mean 'queue'", Only(typo, "unknown-key", Pos(typo, "queu:").Line, Pos(typo, "queu:").Column).Fix);
    }

    [Fact]
    public void AHeartbeatIsADurationOfTenSecondsToADayAndBothFormsAgree()
    {
        var loaded = PolicyLoader.Load(Policy("{ tls: \"192.168.1.20:6514\", ca: /ca.pem, heartbeat: 1h30m }"), FileName);
        Assert.Equal(TimeSpan.FromMinutes(90), loaded.Log.Remote!.Heartbeat);
        Assert.Null(PolicyLoader.Load(Policy("{ tls: \"192.168.1.20:6514\", ca: /ca.pem }"), FileName).Log.Remote!.Heartbeat); // none unless asked
        var built = new PolicyBuilder().Define("collector", "192.168.1.20").Pin("collector.example", "192.168.1.20")
            .Log("EGRESS-DENIED: ", "10/second").RemoteLog("192.168.1.20:6514", "/ca.pem", heartbeat: "1h30m")
            .AllowEgress("syslog-tls", ["$collector"], tcp: [6514]).Build();
        Assert.Equal(built, loaded);
        Assert.NotEqual(loaded, PolicyLoader.Load(Policy("{ tls: \"192.168.1.20:6514\", ca: /ca.pem, heartbeat: 1h }"), FileName)); // a reload that changes it restarts forwarding
        Assert.Equal(TimeSpan.FromMinutes(90), SyslogTlsOptions.FromPolicy(loaded.Log.Remote!).Heartbeat);

        foreach (var (value, message) in new[] { ("5", "is not a duration"), ("9s", "is out of range"), ("25h", "is out of range"), ("5 minutes", "is not a duration") })
        {
            string yaml = Policy($"{{ tls: \"192.168.1.20:6514\", ca: /ca.pem, heartbeat: {value} }}");
            var d = Only(yaml, "bad-remote-heartbeat", Pos(yaml, value + " }").Line, Pos(yaml, value + " }").Column);
            Assert.Contains(message, d.Message);
            Assert.Contains("10s to 24h", d.Fix);
        }
        var e = Assert.Throws<PolicyException>(() => new PolicyBuilder().RemoteLog("192.168.1.20:6514", "/ca.pem", heartbeat: "1s").Build());
        Assert.Equal("bad-remote-heartbeat", Assert.Single(e.Diagnostics).Code);

        // lint suggests one (info: exit 0) where there is none.
        string without = Policy("{ tls: \"192.168.1.20:6514\", ca: /ca.pem }");
        var suggestion = Assert.Single(PolicyLinter.Lint(PolicyLoader.Load(without, FileName)), f => f.Code == "no-heartbeat");
        Assert.Equal((Severity.Info, Pos(without, "{ tls").Line), (suggestion.Severity, suggestion.Location.Line));
        Assert.Contains("heartbeat: 5m", suggestion.Fix);
        Assert.DoesNotContain(PolicyLinter.Lint(loaded), f => f.Code == "no-heartbeat");
    }

    [Fact]
    public void TheBuilderRefusesWhatTheFileRefusesWithTheSameCodes()
    {
        var e = Assert.Throws<PolicyException>(() => new PolicyBuilder().RemoteLog("192.168.1.20", "ca.pem", queue: 0).Build());
        Assert.Equal(["bad-remote-endpoint", "bad-remote-queue", "relative-remote-file"], e.Diagnostics.Select(d => d.Code).Order().ToArray());
    }

    [Fact]
    public void LintReportsACollectorThatNoEgressEntryReaches()
    {
        string yaml = Policy("{ tls: \"192.168.1.20:6514\", ca: /ca.pem }", "    - { name: web, to: [192.168.1.20], tcp: [443] }\n");
        var finding = Assert.Single(PolicyLinter.Lint(PolicyLoader.Load(yaml, FileName)), f => f.Code == "remote-log-blocked");
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new SourceLocation(FileName, Pos(yaml, "{ tls").Line, Pos(yaml, "{ tls").Column), finding.Location);
        Assert.Contains("no egress entry allows tcp/6514 to 192.168.1.20", finding.Message);
        Assert.Contains("to: [192.168.1.20], tcp: [6514]", finding.Fix);
    }

    [Theory]
    [InlineData("\"192.168.1.20:6514\"", "    - { name: syslog-tls, to: [$collector], tcp: [6514] }\n")]
    [InlineData("\"192.168.1.20:6514\"", "    - { name: syslog-tls, to: [192.168.0.0/16], tcp: [6000-7000] }\n")]
    [InlineData("\"192.168.1.20:6514\"", "    - { name: syslog-tls, to: [collector.example], tcp: [6514] }\n")]
    [InlineData("collector.example:6514", "    - { name: syslog-tls, to: [$collector], tcp: [6514] }\n")]
    public void ACollectorReachableThroughAnEntryIsNotReported(string tls, string allow)
    {
        var findings = PolicyLinter.Lint(PolicyLoader.Load(Policy($"{{ tls: {tls}, ca: /ca.pem }}", allow), FileName));
        Assert.DoesNotContain(findings, f => f.Code.StartsWith("remote-log", StringComparison.Ordinal));
    }

    [Fact]
    public void ACollectorAllowedOnAnotherPortOrProtocolIsBlocked()
    {
        var findings = PolicyLinter.Lint(PolicyLoader.Load(Policy("{ tls: \"192.168.1.20:6514\", ca: /ca.pem }",
            "    - { name: syslog, to: [$collector], udp: [6514], tcp: [6515] }\n"), FileName));
        Assert.Contains(findings, f => f.Code == "remote-log-blocked");
    }

    [Fact]
    public void AnUnpinnedCollectorNameIsAWarningUnlessAnEntryNamesIt()
    {
        var findings = PolicyLinter.Lint(PolicyLoader.Load(Policy("{ tls: logs.example:6514, ca: /ca.pem }"), FileName));
        Assert.Equal(Severity.Warning, Assert.Single(findings, f => f.Code == "remote-log-unverified").Severity);
        var named = PolicyLinter.Lint(PolicyLoader.Load(Policy("{ tls: logs.example:6514, ca: /ca.pem }", "    - { name: syslog-tls, to: [logs.example], tcp: [6514] }\n"), FileName));
        Assert.DoesNotContain(named, f => f.Code.StartsWith("remote-log", StringComparison.Ordinal));
    }

    /// <summary>
    /// <c>tls:</c> may list collectors, the first preferred: the rest become fallbacks, in order, in the settings (whose
    /// equality includes them, so a reload that changes them restarts forwarding), in the builder's policy and in the
    /// forwarder's options. Each item is checked like a single collector, at its own line and column.
    /// </summary>
    [Fact]
    public void ACollectorListNamesFallbacksInOrderAndEachItemIsChecked()
    {
        string yaml = Policy("{ tls: [\"$collector:6514\", \"[2001:db8::21]:6514\", logs.example:10514], ca: /ca.pem }",
            "    - { name: syslog-tls, to: [$collector, 2001:db8::21, logs.example], tcp: [6514, 10514] }\n");
        var loaded = PolicyLoader.Load(yaml, FileName);
        var remote = loaded.Log.Remote!;
        Assert.Equal(("192.168.1.20", 6514), (remote.Host, remote.Port));
        Assert.Equal([new DnsEndPoint("2001:db8::21", 6514), new DnsEndPoint("logs.example", 10514)], remote.Fallbacks);
        Assert.Equal(["192.168.1.20:6514", "[2001:db8::21]:6514", "logs.example:10514"], remote.Collectors.Select(RemoteLogSettings.FormatEndpoint));
        var built = new PolicyBuilder().Define("collector", "192.168.1.20").Pin("collector.example", "192.168.1.20")
            .Log("EGRESS-DENIED: ", "10/second").RemoteLog("$collector:6514", "/ca.pem").RemoteLogFallback("[2001:db8::21]:6514").RemoteLogFallback("logs.example:10514")
            .AllowEgress("syslog-tls", ["$collector", "2001:db8::21", "logs.example"], tcp: [6514, 10514]).Build();
        Assert.Equal(built, loaded);
        Assert.NotEqual(remote, PolicyLoader.Load(Policy("{ tls: [\"$collector:6514\", logs.example:10514], ca: /ca.pem }"), FileName).Log.Remote);
        Assert.Equal(remote, PolicyLoader.Load(Policy("{ tls: [\"192.168.1.20:6514\", \"[2001:db8::21]:6514\", logs.example:10514], ca: /ca.pem }"), FileName).Log.Remote);
        Assert.Equal(remote.Fallbacks, SyslogTlsOptions.FromPolicy(remote).Fallbacks);
        Assert.Empty(PolicyLoader.Load(Policy("{ tls: [\"$collector:6514\"], ca: /ca.pem }"), FileName).Log.Remote!.Fallbacks);
        Assert.DoesNotContain(PolicyLinter.Lint(loaded), f => f.Code.StartsWith("remote-log", StringComparison.Ordinal));

        string bad = Policy("{ tls: [\"$collector:6514\", \"192.168.1.21\"], ca: /ca.pem }");
        Assert.Contains("is not an address:port", Only(bad, "bad-remote-endpoint", Pos(bad, "\"192.168.1.21\"").Line, Pos(bad, "\"192.168.1.21\"").Column).Message);
        string twice = Policy("{ tls: [\"$collector:6514\", \"192.168.1.20:6514\"], ca: /ca.pem }");
        Assert.Contains("twice", Only(twice, "bad-remote-endpoint", Pos(twice, "\"192.168.1.20:6514\"").Line, Pos(twice, "\"192.168.1.20:6514\"").Column).Message);
        string empty = Policy("{ tls: [], ca: /ca.pem }");
        Assert.Contains("names no collector", Only(empty, "remote-without-tls", Pos(empty, "{ tls").Line, Pos(empty, "{ tls").Column).Message);
        string nested = Policy("{ tls: [[\"192.168.1.20:6514\"]], ca: /ca.pem }");
        Assert.Contains("log.remote.tls[1]", Assert.Throws<PolicyException>(() => PolicyLoader.Load(nested, FileName)).Diagnostics.Single().Message);
        var e = Assert.Throws<PolicyException>(() => new PolicyBuilder().RemoteLogFallback("192.168.1.21:6514").Build());
        Assert.Equal("remote-without-tls", Assert.Single(e.Diagnostics).Code);
    }

    /// <summary>
    /// <c>failback:</c> says how often the first collector is tried again while a fallback is used (30s to 24h, the
    /// forwarder's 5 minutes when not given); it needs a fallback, and a reload that changes it restarts forwarding.
    /// </summary>
    [Fact]
    public void AFailbackIsADurationOfHalfAMinuteToADayAndNeedsAFallback()
    {
        const string Two = "tls: [\"$collector:6514\", \"192.168.1.21:6514\"], ca: /ca.pem";
        var loaded = PolicyLoader.Load(Policy($"{{ {Two}, failback: 90s }}"), FileName);
        Assert.Equal(TimeSpan.FromSeconds(90), loaded.Log.Remote!.Failback);
        Assert.Equal(TimeSpan.FromSeconds(90), SyslogTlsOptions.FromPolicy(loaded.Log.Remote).FailbackAfter);
        var unset = PolicyLoader.Load(Policy($"{{ {Two} }}"), FileName).Log.Remote!;
        Assert.Null(unset.Failback);
        Assert.Equal(TimeSpan.FromMinutes(5), SyslogTlsOptions.FromPolicy(unset).FailbackAfter);
        Assert.NotEqual(unset, loaded.Log.Remote);
        var built = new PolicyBuilder().Define("collector", "192.168.1.20").Pin("collector.example", "192.168.1.20")
            .Log("EGRESS-DENIED: ", "10/second").RemoteLog("$collector:6514", "/ca.pem", failback: "90s").RemoteLogFallback("192.168.1.21:6514")
            .AllowEgress("syslog-tls", ["$collector"], tcp: [6514]).Build();
        Assert.Equal(built.Log.Remote, loaded.Log.Remote);

        foreach (var (value, message) in new[] { ("5", "is not a duration"), ("29s", "is out of range"), ("25h", "is out of range") })
        {
            string yaml = Policy($"{{ {Two}, failback: {value} }}");
            var d = Only(yaml, "bad-remote-failback", Pos(yaml, value + " }").Line, Pos(yaml, value + " }").Column);
            Assert.Contains(message, d.Message);
            Assert.Contains("30s to 24h", d.Fix);
        }
        string alone = Policy("{ tls: \"192.168.1.20:6514\", ca: /ca.pem, failback: 5m }");
        Assert.Contains("there is no fallback to come back from", Only(alone, "bad-remote-failback", Pos(alone, "5m }").Line, Pos(alone, "5m }").Column).Message);
        var e = Assert.Throws<PolicyException>(() => new PolicyBuilder().RemoteLog("192.168.1.20:6514", "/ca.pem", failback: "5m").Build());
        Assert.Equal("bad-remote-failback", Assert.Single(e.Diagnostics).Code);
    }

    /// <summary>Lint checks every collector: a fallback the policy blocks is an error that names it as the fallback.</summary>
    [Fact]
    public void LintReportsAFallbackThatNoEgressEntryReaches()
    {
        string yaml = Policy("{ tls: [\"$collector:6514\", \"192.168.1.21:6514\", logs.example:6514], ca: /ca.pem }");
        var findings = PolicyLinter.Lint(PolicyLoader.Load(yaml, FileName));
        var blocked = Assert.Single(findings, f => f.Code == "remote-log-blocked");
        Assert.Contains("log.remote fallback 192.168.1.21:6514 is not reachable", blocked.Message);
        Assert.Contains("to: [192.168.1.21], tcp: [6514]", blocked.Fix);
        Assert.Contains("log.remote fallback host 'logs.example'", Assert.Single(findings, f => f.Code == "remote-log-unverified").Message);
    }

    [Fact]
    public void ThePolicysCollectorBecomesForwarderOptions()
    {
        var remote = new RemoteLogSettings("192.168.1.20", 6514, "/etc/netlinkfence/ca.pem", "/c.pem", "/c.key", 77);
        var options = SyslogTlsOptions.FromPolicy(remote);
        Assert.Equal(("192.168.1.20", 6514, "/etc/netlinkfence/ca.pem", "/c.pem", "/c.key", 77),
            (options.Host, options.Port, options.CaFile, options.ClientCertificateFile, options.ClientKeyFile, options.QueueCapacity));
    }
}
