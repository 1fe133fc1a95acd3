using NetlinkFence.Policy;

namespace NetlinkFence.Tests.Policy;

/// <summary><c>egress.dns.min_ttl / grace / max_addresses_per_name</c> and <c>resolve: lazy</c>, from a file and from the builder.</summary>
public sealed class DnsSettingsTests
{
    private const string Head = "version: 1\negress:\n  dns:\n    resolvers: [192.0.2.53]\n";

    private static EgressPolicy Load(string text) => PolicyLoader.Load(text, "p.yaml");

    [Fact]
    public void DefaultsAre30s60sAnd50()
    {
        var policy = Load(Head);
        Assert.Equal(new DnsSettings(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), 50), policy.Dns);
        Assert.Equal(DnsSettings.Default, policy.Dns);
    }

    [Fact]
    public void EveryKeyCanBeOverriddenAndTheBuilderGivesAnEqualPolicy()
    {
        var policy = Load(Head + "    min_ttl: 2s\n    grace: 3\n    max_addresses_per_name: 7\n"
            + "  allow:\n    - name: web\n      to: [cdn.example]\n      tcp: [443]\n      resolve: lazy\n");
        Assert.Equal(new DnsSettings(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3), 7), policy.Dns);
        Assert.True(policy.Egress[0].ResolveLazily);
        var built = new PolicyBuilder().Resolvers("192.0.2.53").Dns(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3), 7)
            .AllowEgress("web", to: ["cdn.example"], tcp: [443]).ResolveLazily("web").Build();
        Assert.Equal(built, policy);
        Assert.NotEqual(built, Load(Head + "  allow:\n    - name: web\n      to: [cdn.example]\n      tcp: [443]\n"));
        Assert.Equal(TimeSpan.FromMinutes(5), Load(Head + "    grace: 5m\n").Dns.Grace);
        Assert.Equal(TimeSpan.FromHours(1), Load(Head + "    min_ttl: 1h\n").Dns.MinTtl);
    }

    /// <summary>
    /// <c>max_ttl</c> caps the TTL a resolver gives (default 1h): a name is asked again at least that often, and an address
    /// nobody refreshes lives at most max_ttl + grace. Without it the cap is never below a raised <c>min_ttl</c>.
    /// </summary>
    [Fact]
    public void MaxTtlCapsTheTtlAndNeverUndercutsARaisedFloor()
    {
        Assert.Equal(TimeSpan.FromHours(1), Load(Head).Dns.MaxTtl);
        var capped = Load(Head + "    max_ttl: 10m\n    grace: 1m\n").Dns;
        Assert.Equal(TimeSpan.FromMinutes(10), capped.MaxTtl);
        Assert.Equal(TimeSpan.FromMinutes(10), capped.Bound(TimeSpan.FromDays(365)));
        Assert.Equal(TimeSpan.FromMinutes(11), capped.Lifetime(TimeSpan.FromDays(365)));
        Assert.Equal(TimeSpan.FromSeconds(30), capped.Bound(TimeSpan.FromSeconds(1)));
        Assert.Equal(TimeSpan.FromMinutes(5), capped.Bound(TimeSpan.FromMinutes(5)));
        Assert.Equal(TimeSpan.FromHours(2), Load(Head + "    min_ttl: 2h\n").Dns.MaxTtl);
        Assert.Equal(Load(Head + "    max_ttl: 10m\n    grace: 1m\n"),
            new PolicyBuilder().Resolvers("192.0.2.53").Dns(grace: TimeSpan.FromMinutes(1), maxTtl: TimeSpan.FromMinutes(10)).Build());
        Assert.Equal(TimeSpan.FromHours(2), new PolicyBuilder().Resolvers("192.0.2.53").Dns(minTtl: TimeSpan.FromHours(2)).Build().Dns.MaxTtl);
    }

    [Fact]
    public void AMaxTtlBelowMinTtlIsALocatedError()
    {
        var error = Assert.Throws<PolicyException>(() => Load(Head + "    min_ttl: 10m\n    max_ttl: 5m\n"));
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal(("bad-dns-duration", 6, 14), (diagnostic.Code, diagnostic.Location.Line, diagnostic.Location.Column));
        Assert.Contains("egress.dns.min_ttl 10m is above max_ttl 5m", diagnostic.Message);
        var built = Assert.Throws<PolicyException>(() => new PolicyBuilder().Resolvers("192.0.2.53").Dns(minTtl: TimeSpan.FromMinutes(10), maxTtl: TimeSpan.FromMinutes(5)).Build());
        Assert.Equal("bad-dns-duration", Assert.Single(built.Diagnostics).Code);
        // A max_ttl out of range is that one error, not also one against the default cap it left in place.
        var outOfRange = Assert.Throws<PolicyException>(() => Load(Head + "    min_ttl: 2h\n    max_ttl: 25h\n"));
        Assert.Contains("max_ttl 25h is out of range", Assert.Single(outOfRange.Diagnostics).Message);
    }

    [Theory]
    [InlineData("    min_ttl: 0s\n", 5, 14, "bad-dns-duration")]
    [InlineData("    min_ttl: soon\n", 5, 14, "bad-dns-duration")]
    [InlineData("    grace: 25h\n", 5, 12, "bad-dns-duration")]
    [InlineData("    grace: -1s\n", 5, 12, "bad-dns-duration")]
    [InlineData("    max_ttl: 25h\n", 5, 14, "bad-dns-duration")]
    [InlineData("    max_ttl: 0s\n", 5, 14, "bad-dns-duration")]
    [InlineData("    max_addresses_per_name: 0\n", 5, 29, "bad-max-addresses")]
    [InlineData("    max_addresses_per_name: many\n", 5, 29, "bad-max-addresses")]
    [InlineData("    min_tll: 30s\n", 5, 5, "unknown-key")]
    [InlineData("  allow:\n    - name: web\n      to: [cdn.example]\n      tcp: [443]\n      resolve: later\n", 9, 16, "bad-resolve")]
    public void BadValuesAreLocatedErrors(string tail, int line, int column, string code)
    {
        var error = Assert.Throws<PolicyException>(() => Load(Head + tail));
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal((code, "p.yaml", line, column), (diagnostic.Code, diagnostic.Location.File, diagnostic.Location.Line, diagnostic.Location.Column));
    }

    [Fact]
    public void TheBuilderRefusesWhatTheFileRefuses()
    {
        var error = Assert.Throws<PolicyException>(() => new PolicyBuilder().Resolvers("192.0.2.53")
            .Dns(minTtl: TimeSpan.Zero, grace: TimeSpan.FromMilliseconds(1500), maxAddressesPerName: 0)
            .AllowEgress("web", to: ["cdn.example"], tcp: [443]).ResolveLazily("nope").Build());
        Assert.Equal(["bad-dns-duration", "bad-dns-duration", "bad-max-addresses", "unknown-entry"], error.Diagnostics.Select(d => d.Code).Order());
    }

    [Fact]
    public async Task AnUnresolvableNameIsALocatedErrorUnlessEveryEntryUsingItIsLazy()
    {
        var dns = new NetlinkFence.Tests.Dns.ScriptedDns();
        string strict = Head + "  allow:\n    - name: web\n      to: [gone.example]\n      tcp: [443]\n";
        var error = await Assert.ThrowsAsync<PolicyException>(() => ResolvedPolicy.ResolveAsync(Load(strict), dns));
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal(("unresolved-host", 7, 12), (diagnostic.Code, diagnostic.Location.Line, diagnostic.Location.Column));
        Assert.Contains("timed out", diagnostic.Message);

        var lazy = await ResolvedPolicy.ResolveAsync(Load(strict + "      resolve: lazy\n"), dns);
        Assert.True(lazy.Names["gone.example"].Unresolved);
        Assert.Empty(PolicyCompiler.Compile(lazy).Sets.Where(s => s.Set.Name.Contains("web")).SelectMany(s => s.Elements));

        // Used lazily by one entry and strictly by another: still an error, at the strict use.
        string both = strict + "    - name: web2\n      to: [gone.example]\n      tcp: [80]\n      resolve: lazy\n";
        error = await Assert.ThrowsAsync<PolicyException>(() => ResolvedPolicy.ResolveAsync(Load(both), dns));
        Assert.Equal(7, Assert.Single(error.Diagnostics).Location.Line);
    }

    [Fact]
    public void LintSaysNamesAreNotRefreshedWithoutTheDaemon()
    {
        var findings = PolicyLinter.Lint(Load(Head + "  allow:\n    - name: web\n      to: [cdn.example]\n      tcp: [443]\n"));
        Assert.Contains(findings, f => f.Code == "names-not-refreshed" && f.Message.Contains("not refreshed without the daemon"));
        var pinned = Load("version: 1\nhosts:\n  cdn.example: [192.0.2.1]\n" + Head[11..] + "  allow:\n    - name: web\n      to: [cdn.example]\n      tcp: [443]\n");
        Assert.DoesNotContain(PolicyLinter.Lint(pinned), f => f.Code == "names-not-refreshed");
    }
}
