using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>
/// <c>verify</c> on a table the policy runs in: an open window (kernel-timed elements the policy's <c>window:</c>
/// allows) is the policy's own state, not drift, so the DaemonSet's readiness probe stays ready while a window is
/// open; an element the policy does not allow, a window held open longer than its <c>window:</c>, or a missing
/// destination still is drift. Checked against the kernel in a fresh namespace, the tampering done with nft.
/// </summary>
public sealed class VerifyRunningPolicyTests : IDisposable
{
    /// <summary>The live-policy tests' policy, its permanent entry also given a network and its window entry 30 m.</summary>
    private static readonly string Yaml = Live.LivePolicyTests.Yaml
        .Replace("to: [api.ironclaw.example]", "to: [api.ironclaw.example, 192.0.2.0/28]").Replace("window: 1m", "window: 30m");

    private readonly string _policy = Path.Combine(Path.GetTempPath(), $"nlf-verify-running-{Guid.NewGuid():N}.yaml");

    public VerifyRunningPolicyTests() => File.WriteAllText(_policy, Yaml);

    public void Dispose() => File.Delete(_policy);

    [Fact]
    public void An_open_window_matches_and_what_the_policy_does_not_allow_does_not()
    {
        using var ns = TestNamespace.Create();
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {ns.Name}").ExitCode);
        Assert.Equal(0, CliRunner.Run($"open updates --for 5m --policy {_policy} --netns {ns.Name}").ExitCode);
        Assert.Contains("203.0.113.80 . tcp . 80", ns.Nft("list set inet netlinkfence allow_v4")); // the window is open
        var open = CliRunner.Run($"verify {_policy} --netns {ns.Name}");
        Assert.True(open.ExitCode == 0, open.Stdout + open.Stderr);

        // A window held open beyond its window: (what no `open` can do) is drift.
        ns.Nft("add element inet netlinkfence allow_v4 { 203.0.113.80 . tcp . 8080 timeout 20m comment \"updates\" }");
        Expect(ns, "element 203.0.113.80 . tcp . 8080 (\"updates\"", "not one of the entry's tcp ports");
        ns.Nft("delete element inet netlinkfence allow_v4 { 203.0.113.80 . tcp . 8080 }");
        ns.Nft("add element inet netlinkfence allow_v4 { 198.51.100.80 . tcp . 80 timeout 2h comment \"updates\" }");
        Expect(ns, "element 198.51.100.80 . tcp . 80 (\"updates\"", "open for longer than the entry's window (30m)");
        ns.Nft("delete element inet netlinkfence allow_v4 { 198.51.100.80 . tcp . 80 }");
        // A timed element for an address the entry does not name (and no name of its could move to).
        ns.Nft("add element inet netlinkfence allow_v4 { 198.51.100.80 . tcp . 80 timeout 10m comment \"updates\" }");
        Expect(ns, "element 198.51.100.80 . tcp . 80", "not one of the entry's destinations");
        ns.Nft("delete element inet netlinkfence allow_v4 { 198.51.100.80 . tcp . 80 }");
        // A permanent element by hand, and one of the policy's destinations deleted.
        ns.Nft("add element inet netlinkfence allow_v4 { 10.9.9.9 . tcp . 22 }");
        Expect(ns, "+ set allow_v4: element 10.9.9.9 . tcp . 22", "no egress entry of the policy has that name");
        ns.Nft("delete element inet netlinkfence allow_v4 { 10.9.9.9 . tcp . 22 }");
        Assert.Equal(0, CliRunner.Run($"verify {_policy} --netns {ns.Name}").ExitCode);
        ns.Nft("delete element inet netlinkfence allow_v4 { 203.0.113.50 . tcp . 443 }");
        Expect(ns, "- set allow_v4: element 203.0.113.50 . tcp . 443", "a destination of the policy");
    }

    [Fact]
    public void An_element_given_to_another_entry_is_drift_though_every_key_is_the_policys()
    {
        using var ns = TestNamespace.Create();
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {ns.Name}").ExitCode);
        Assert.Equal(0, CliRunner.Run($"verify {_policy} --netns {ns.Name}").ExitCode);
        // The same key, its counter and its userdata now another entry's: the set's keys are all the policy's, its elements are not.
        ns.Nft("delete element inet netlinkfence allow_v4 { 203.0.113.50 . tcp . 443 }");
        ns.Nft("add element inet netlinkfence allow_v4 { 203.0.113.50 . tcp . 443 comment \"updates\" }");
        Expect(ns, "element 203.0.113.50 . tcp . 443 (\"updates\", permanent)", "not one of the entry's tcp ports");
        Expect(ns, "- set allow_v4: element 203.0.113.50 . tcp . 443", "a destination of the policy");
    }

    /// <summary>verify exits 1 and names the element and why.</summary>
    private void Expect(TestNamespace ns, string element, string reason)
    {
        var drift = CliRunner.Run($"verify {_policy} --netns {ns.Name}");
        Assert.True(drift.ExitCode == 1, drift.Stdout + drift.Stderr);
        Assert.Contains(element, drift.Stdout);
        Assert.Contains(reason, drift.Stdout);
    }
}
