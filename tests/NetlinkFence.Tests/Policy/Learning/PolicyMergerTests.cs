using System.Net;
using System.Net.Sockets;
using NetlinkFence.Policy;
using NetlinkFence.Policy.Learning;

namespace NetlinkFence.Tests.Policy.Learning;

/// <summary>Merging suggested entries into the policy FILE: text insertion, the user's file otherwise untouched.</summary>
public sealed class PolicyMergerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 6, 0, 0, TimeSpan.Zero);

    private static SuggestedEntry Ntp(string name = "learned-198-51-100-7", string to = "198.51.100.7") =>
        new(name, [to], [IPAddress.Parse(to)], null, NameSource.None,
            [new SuggestedPort(ProtocolType.Udp, 123, 12, T0, T0.AddSeconds(4), ["_chrony (uid 118)"])]);

    /// <summary>The merged text with the inserted lines taken out again.</summary>
    private static string WithoutInserted(PolicyChange change)
    {
        var added = change.Diff.Split('\n').Where(l => l.StartsWith('+') && !l.StartsWith("+++")).Select(l => l[1..]).ToList();
        var lines = change.Merged.Split('\n').ToList();
        foreach (string line in added)
            lines.Remove(line);
        return string.Join('\n', lines);
    }

    [Fact]
    public void EntriesGoAfterTheLastAllowItemAndEverythingElseStaysAsWritten()
    {
        string text = DenialLearnerTests.PolicyText + "\n# trailing comment stays last\n";
        var change = PolicyMerger.Merge(text, "policy.yaml", [Ntp()]);

        Assert.Equal(text, WithoutInserted(change));
        var merged = PolicyLoader.Load(change.Merged, "policy.yaml");
        var entry = merged.Egress[^1];
        Assert.Equal("learned-198-51-100-7", entry.Name);
        Assert.Equal([new PortRange(123, 123)], entry.Udp);
        Assert.Equal(IPNetwork.Parse("198.51.100.7/32"), entry.Peers.Single().Network);
        Assert.Equal(["ironclaw-control", "packages", "learned-198-51-100-7"], merged.Egress.Select(e => e.Name));
        Assert.Empty(change.NewFindings);
        // The comment carries count and first/last seen; the diff is unified and only adds.
        Assert.Contains("#   udp/123: 12 x, first 2026-12-02T06:00:00Z, last 2026-12-02T06:00:04Z, from _chrony (uid 118)", change.Merged);
        Assert.StartsWith("--- policy.yaml\n+++ policy.yaml (learned)\n@@ -", change.Diff);
        Assert.DoesNotContain(change.Diff.Split('\n'), l => l.StartsWith('-') && !l.StartsWith("---"));
        Assert.Contains("+    - name: learned-198-51-100-7", change.Diff);
        Assert.Contains("+      udp: [123]", change.Diff);
        Assert.True(change.Merged.IndexOf("learned-198", StringComparison.Ordinal) < change.Merged.IndexOf("# trailing comment", StringComparison.Ordinal));
    }

    [Fact]
    public void AnEmptyFlowListBecomesABlockList()
    {
        const string text = "version: 1\nlog:\n  prefix: \"EGRESS-DENIED: \"\negress:\n  allow: []   # nothing yet\ninput:\n  allow: []\n";
        var change = PolicyMerger.Merge(text, "p.yaml", [Ntp()]);
        var merged = PolicyLoader.Load(change.Merged, "p.yaml");
        Assert.Equal("learned-198-51-100-7", merged.Egress.Single().Name);
        Assert.Contains("  allow: # nothing yet\n    # learned", change.Merged);
        Assert.EndsWith("input:\n  allow: []\n", change.Merged);
    }

    [Fact]
    public void AMissingAllowOrEgressIsAdded()
    {
        const string noAllow = "version: 1\negress:\n  dns:\n    resolvers: [192.168.1.10]\n\nlog:\n  prefix: \"EGRESS-DENIED: \"\n";
        var change = PolicyMerger.Merge(noAllow, "p.yaml", [Ntp()]);
        Assert.Equal("learned-198-51-100-7", PolicyLoader.Load(change.Merged, "p.yaml").Egress.Single().Name);
        Assert.Contains("    resolvers: [192.168.1.10]\n  allow:\n", change.Merged);

        const string noEgress = "version: 1\nlog:\n  prefix: \"EGRESS-DENIED: \"";
        change = PolicyMerger.Merge(noEgress, "p.yaml", [Ntp()]);
        Assert.Equal("learned-198-51-100-7", PolicyLoader.Load(change.Merged, "p.yaml").Egress.Single().Name);
    }

    [Fact]
    public void CrlfFilesStayCrlfAndIPv6AndPinsAreWrittenSoTheyLoad()
    {
        string text = DenialLearnerTests.PolicyText.ReplaceLineEndings("\r\n") + "\r\n";
        var pinned = new SuggestedEntry("api-ironclaw-example", ["api.ironclaw.example"], [IPAddress.Parse("203.0.113.50")], "api.ironclaw.example", NameSource.Pin,
            [new SuggestedPort(ProtocolType.Tcp, 8443, 1, T0, T0, [])]);
        var change = PolicyMerger.Merge(text, "p.yaml", [pinned, Ntp("v6-peer", "2001:db8::77")]);
        Assert.DoesNotContain("\n", change.Merged.Replace("\r\n", ""));
        var merged = PolicyLoader.Load(change.Merged, "p.yaml");
        Assert.Equal("api.ironclaw.example", merged.Egress.Single(e => e.Name == "api-ironclaw-example").Peers.Single().HostName);
        Assert.Equal(IPNetwork.Parse("2001:db8::77/128"), merged.Egress.Single(e => e.Name == "v6-peer").Peers.Single().Network);
    }

    [Fact]
    public void ANonEmptyFlowListIsRefusedWithAFix()
    {
        const string text = "version: 1\nlog:\n  prefix: \"EGRESS-DENIED: \"\negress:\n  allow: [{ name: a, to: [192.0.2.1], tcp: [443] }]\n";
        var e = Assert.Throws<PolicyException>(() => PolicyMerger.Merge(text, "p.yaml", [Ntp()]));
        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal("learn-cannot-merge", diagnostic.Code);
        Assert.Equal(5, diagnostic.Location.Line);
    }

    [Fact]
    public void NothingToAddChangesNothing()
    {
        var change = PolicyMerger.Merge(DenialLearnerTests.PolicyText, "p.yaml", []);
        Assert.Equal(DenialLearnerTests.PolicyText, change.Merged);
        Assert.Equal("", change.Diff);
    }

    [Fact]
    public async Task SuggestionsFromDenialsMergeIntoAPolicyThatAllowsThem()
    {
        var learner = new DenialLearner();
        learner.Observe(DenialLearnerTests.Denial("198.51.100.7", ProtocolType.Udp, 123, 1));
        learner.Observe(DenialLearnerTests.Denial("203.0.113.50", ProtocolType.Tcp, 8443, 2));
        var report = await learner.SuggestAsync(await DenialLearnerTests.ResolvedAsync());
        var change = PolicyMerger.Merge(DenialLearnerTests.PolicyText, "p.yaml", report.Entries);

        var resolved = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(change.Merged, "p.yaml"), new DenialLearnerTests.FixedResolver(("deb.example.org", "192.0.2.80")));
        var compiled = PolicyCompiler.Compile(resolved);
        Assert.True(FlowExplainer.Explain(compiled, ProtocolType.Udp, IPAddress.Parse("198.51.100.7"), 123).Allowed);
        Assert.True(FlowExplainer.Explain(compiled, ProtocolType.Tcp, IPAddress.Parse("203.0.113.50"), 8443).Allowed);
        Assert.False(FlowExplainer.Explain(compiled, ProtocolType.Udp, IPAddress.Parse("198.51.100.7"), 124).Allowed);
        Assert.Empty(change.NewFindings);
    }
}
