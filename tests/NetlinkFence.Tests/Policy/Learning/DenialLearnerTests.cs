using System.Net;
using System.Net.Sockets;
using NetlinkFence.Logging;
using NetlinkFence.Policy;
using NetlinkFence.Policy.Learning;

namespace NetlinkFence.Tests.Policy.Learning;

/// <summary>The suggestion engine of <c>learn</c>, without a kernel: grouping, naming, the DNS finding.</summary>
public sealed class DenialLearnerTests
{
    internal const string PolicyText = """
        version: 1
        define:
          resolvers: [192.168.1.10]
        hosts:
          # the control plane, pinned
          api.ironclaw.example: [203.0.113.50, "2001:db8::50"]
        log:
          prefix: "EGRESS-DENIED: "
          rate: 10/second
        egress:
          dns:
            resolvers: $resolvers
          allow:
            - name: ironclaw-control
              to: [api.ironclaw.example]
              tcp: [443]
            - name: packages
              to: [deb.example.org]
              tcp: [443]
        """;

    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 6, 0, 0, TimeSpan.Zero);

    internal static DenialRecord Denial(string destination, ProtocolType protocol, ushort port, int second, string chain = "egress_denied", uint? uid = null, string? user = null) => new()
    {
        Time = T0.AddSeconds(second),
        Family = IPAddress.Parse(destination).AddressFamily,
        Protocol = protocol,
        Source = IPAddress.Parse("10.0.0.5"),
        Destination = IPAddress.Parse(destination),
        SourcePort = 40000,
        DestinationPort = port,
        Chain = chain,
        Uid = uid,
        UserName = user,
        Prefix = "EGRESS-DENIED: ",
    };

    internal static async Task<ResolvedPolicy> ResolvedAsync(string text = PolicyText) =>
        await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(text, "policy.yaml"), new FixedResolver(("deb.example.org", "192.0.2.80")));

    [Fact]
    public async Task DenialsAreGroupedByDestinationWithCountsAndFirstAndLastSeen()
    {
        var learner = new DenialLearner();
        learner.Observe(Denial("198.51.100.7", ProtocolType.Udp, 123, 5, uid: 118, user: "_chrony"));
        learner.Observe(Denial("198.51.100.7", ProtocolType.Udp, 123, 1, uid: 118, user: "_chrony"));
        learner.Observe(Denial("198.51.100.7", ProtocolType.Tcp, 8443, 3));
        learner.Observe(Denial("198.51.100.9", ProtocolType.Udp, 123, 9));

        var report = await learner.SuggestAsync(await ResolvedAsync());

        Assert.Equal(2, report.Entries.Count);
        var first = report.Entries[0];
        Assert.Equal("learned-198-51-100-7", first.Name);
        Assert.Equal(["198.51.100.7"], first.To);
        Assert.Equal(NameSource.None, first.NameSource);
        Assert.Equal(["tcp/8443", "udp/123"], first.Ports.Select(p => p.Flow));
        var ntp = first.Ports[1];
        Assert.Equal(2, ntp.Count);
        Assert.Equal(T0.AddSeconds(1), ntp.FirstSeen);
        Assert.Equal(T0.AddSeconds(5), ntp.LastSeen);
        Assert.Equal(["_chrony (uid 118)"], ntp.Users);
        Assert.Equal(3, first.Count);
        Assert.Equal("learned-198-51-100-9", report.Entries[1].Name);
        Assert.Equal(4, report.Observed);
    }

    [Fact]
    public async Task NamesComeFromPinsThenResolvedNamesThenReverseDns()
    {
        var learner = new DenialLearner();
        learner.Observe(Denial("203.0.113.50", ProtocolType.Tcp, 8443, 1));   // pinned in hosts:
        learner.Observe(Denial("192.0.2.80", ProtocolType.Tcp, 80, 2));       // deb.example.org, resolved by the policy
        learner.Observe(Denial("198.51.100.7", ProtocolType.Udp, 123, 3));    // PTR: ntp.example.net
        learner.Observe(Denial("198.51.100.8", ProtocolType.Udp, 123, 4));    // PTR: ntp.example.net too: same entry
        learner.Observe(Denial("198.51.100.99", ProtocolType.Tcp, 25, 5));    // no name anywhere

        var reverse = new FixedReverse(("198.51.100.7", "ntp.example.net"), ("198.51.100.8", "NTP.example.net"), ("203.0.113.50", "wrong.example"));
        var report = await learner.SuggestAsync(await ResolvedAsync(), reverse);

        var byName = report.Entries.ToDictionary(e => e.Name);
        Assert.Equal(4, byName.Count);
        Assert.Equal(NameSource.Pin, byName["api-ironclaw-example"].NameSource);
        Assert.Equal(["api.ironclaw.example"], byName["api-ironclaw-example"].To);
        Assert.Equal(NameSource.Resolved, byName["deb-example-org"].NameSource);
        Assert.Equal(["192.0.2.80"], byName["deb-example-org"].To);
        Assert.Equal(NameSource.ReverseDns, byName["ntp-example-net"].NameSource);
        Assert.Equal(["198.51.100.7", "198.51.100.8"], byName["ntp-example-net"].To);
        Assert.Equal(2, byName["ntp-example-net"].Ports.Single().Count);
        Assert.Equal(NameSource.None, byName["learned-198-51-100-99"].NameSource);
        Assert.DoesNotContain(IPAddress.Parse("203.0.113.50"), reverse.Asked); // a pin needs no lookup
    }

    [Fact]
    public async Task DnsToANonResolverIsAFindingNeverAnEntry()
    {
        var learner = new DenialLearner();
        learner.Observe(Denial("8.8.8.8", ProtocolType.Udp, 53, 1, uid: 118, user: "_chrony"));
        learner.Observe(Denial("8.8.8.8", ProtocolType.Udp, 53, 2));
        learner.Observe(Denial("8.8.4.4", ProtocolType.Tcp, 53, 3));

        var report = await learner.SuggestAsync(await ResolvedAsync());

        Assert.Empty(report.Entries);
        Assert.Equal(2, report.Findings.Count);
        Assert.All(report.Findings, f => Assert.Equal("dns-to-non-resolver", f.Code));
        var google = report.Findings.Single(f => f.Destination.Equals(IPAddress.Parse("8.8.8.8")));
        Assert.Equal(2, google.Count);
        Assert.Contains("not one of the policy's resolvers", google.Message);
    }

    [Fact]
    public async Task AWindowEntrysFlowDeniedWhileClosedIsAFindingNeverAPermanentEntry()
    {
        var learner = new DenialLearner();
        learner.Observe(Denial("192.0.2.80", ProtocolType.Tcp, 80, 1));
        learner.Observe(Denial("192.0.2.80", ProtocolType.Tcp, 80, 2));
        learner.Observe(Denial("192.0.2.80", ProtocolType.Tcp, 8080, 3)); // not the window's port: an ordinary suggestion

        var report = await learner.SuggestAsync(await ResolvedAsync(PolicyText + """

                - name: updates
                  to: [deb.example.org]
                  tcp: [80]
                  window: 30m
            """));

        var finding = Assert.Single(report.Findings);
        Assert.Equal("window-closed", finding.Code);
        Assert.Equal(2, finding.Count);
        Assert.Contains("is window entry 'updates' (policy.yaml:", finding.Message);
        Assert.Contains("open it (for at most 30m) for the run that needs it", finding.Message);
        Assert.Equal("updates", finding.Entry); // learn adds the open command for its policy and namespace
        var entry = Assert.Single(report.Entries);
        Assert.Equal(8080, Assert.Single(entry.Ports).Port);
    }

    [Fact]
    public async Task AllowedFlowsInputDenialsAndIcmpAreNotSuggested()
    {
        var learner = new DenialLearner();
        learner.Observe(Denial("192.168.1.10", ProtocolType.Udp, 53, 1));     // DNS to the resolver: allowed
        learner.Observe(Denial("203.0.113.50", ProtocolType.Tcp, 443, 2));    // ironclaw-control: allowed
        learner.Observe(Denial("198.51.100.7", ProtocolType.Tcp, 22, 3, chain: "ingress_denied"));
        learner.Observe(Denial("198.51.100.7", ProtocolType.Icmp, 0, 4) with { DestinationPort = null, IcmpType = 8 });
        learner.Observe(Denial("198.51.100.7", ProtocolType.Udp, 0, 5) with { DestinationPort = null, Truncated = true });

        var report = await learner.SuggestAsync(await ResolvedAsync());

        Assert.Empty(report.Entries);
        Assert.Empty(report.Findings);
        Assert.Equal(2, report.AlreadyAllowed);
        Assert.Equal(3, report.Ignored);
        Assert.Equal(5, report.Observed);
    }

    [Theory]
    [InlineData("ntp.example.net", "ntp-example-net")]
    [InlineData("ironclaw-control", "ironclaw-control-2")]
    [InlineData("a-very-long-host-name.with.many.labels.example.com", "a-very-long-host-name-with-many")]
    [InlineData("...", "learned")]
    public void EntryNamesAreValidAndUnique(string text, string expected)
    {
        var taken = new HashSet<string> { "ironclaw-control" };
        string name = EntryNames.Unique(text, taken, "learned");
        Assert.Equal(expected, name);
        Assert.Matches("^[a-z0-9][a-z0-9_-]{0,31}$", name);
        Assert.NotEqual(name, EntryNames.Unique(text, taken, "learned"));
    }

    internal sealed class FixedResolver(params (string Host, string Address)[] names) : IHostResolver
    {
        public Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<IPAddress>>(names.Where(n => n.Host == host).Select(n => IPAddress.Parse(n.Address)).ToList());
    }

    private sealed class FixedReverse(params (string Address, string Name)[] names) : IReverseResolver
    {
        public List<IPAddress> Asked { get; } = [];

        public Task<string?> ReverseAsync(IPAddress address, CancellationToken cancellationToken)
        {
            Asked.Add(address);
            return Task.FromResult(names.Where(n => IPAddress.Parse(n.Address).Equals(address)).Select(n => n.Name.ToLowerInvariant()).FirstOrDefault());
        }
    }
}
