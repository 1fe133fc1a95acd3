using System.Text.Json;
using NetlinkFence.Tests.Daemon;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>
/// A policy without IPv6 peers closes IPv6 altogether; where IPv6 is on, each interface that comes up then logs the
/// kernel's link housekeeping as denials. <c>apply</c> and <c>run</c> say so, naming where IPv6 is on and the way out,
/// and say nothing where IPv6 is off or the policy has IPv6 peers (it lets the housekeeping through).
/// </summary>
public sealed class IPv6HousekeepingNoteTests
{
    private const string Note = "the policy names no IPv6 peer, so it closes IPv6 altogether, but IPv6 is on in namespace";
    private const string WayOut = "where the host needs no IPv6, set net.ipv6.conf.all.disable_ipv6 to 1 (which sets every interface and the default";

    [Fact]
    public void Apply_names_the_interfaces_with_IPv6_on_and_says_nothing_once_it_is_off()
    {
        using var ns = WithVethPair();
        string policy = DaemonTests.WritePolicy(DaemonTests.Policy());

        var on = CliRunner.Run($"apply {policy} --netns {ns.Name}");
        Assert.True(on.ExitCode == 0, on.Stderr);
        Assert.Contains($"{Note} {ns.Name} (on nlf-h6a, nlf-h6b and every new interface)", on.Stdout);
        Assert.Contains(WayOut, on.Stdout);

        // JSON keeps stdout one document: the note goes to stderr with the other notes.
        var json = CliRunner.Run($"apply {policy} --netns {ns.Name} --output json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        Assert.True(JsonDocument.Parse(json.Stdout).RootElement.GetProperty("committed").GetBoolean());
        Assert.Contains(Note, json.Stderr);

        ns.Exec("sysctl", "-qw net.ipv6.conf.nlf-h6a.disable_ipv6=1");
        Assert.Contains($"{Note} {ns.Name} (on nlf-h6b and every new interface)", CliRunner.Run($"apply {policy} --netns {ns.Name}").Stdout);
        ns.Exec("sysctl", "-qw net.ipv6.conf.nlf-h6b.disable_ipv6=1");
        Assert.Contains($"{Note} {ns.Name} (for every interface that comes up)", CliRunner.Run($"apply {policy} --netns {ns.Name}").Stdout);
        ns.Exec("sysctl", "-qw net.ipv6.conf.nlf-h6b.disable_ipv6=0");
        ns.Exec("sysctl", "-qw net.ipv6.conf.all.disable_ipv6=1"); // the kernel writes 'default' and every interface with it
        var off = CliRunner.Run($"apply {policy} --netns {ns.Name}");
        Assert.True(off.ExitCode == 0, off.Stderr);
        Assert.DoesNotContain("IPv6", off.Stdout + off.Stderr);
        File.Delete(policy);
    }

    [Fact]
    public void A_policy_with_IPv6_peers_gets_no_note()
    {
        using var ns = WithVethPair();
        string policy = DaemonTests.WritePolicy(DaemonTests.Policy("2001:db8::50"));
        var applied = CliRunner.Run($"apply {policy} --netns {ns.Name}");
        Assert.True(applied.ExitCode == 0, applied.Stderr);
        Assert.Contains("rt type 0 drop", ns.Nft("list chain inet netlinkfence output")); // the housekeeping rules came with it
        Assert.DoesNotContain(Note, applied.Stdout + applied.Stderr);
        File.Delete(policy);
    }

    [Fact]
    public void The_daemon_logs_it_at_start()
    {
        using var ns = WithVethPair();
        string policy = DaemonTests.WritePolicy(DaemonTests.Policy());
        using (var daemon = DaemonProcess.Start(policy, ns))
        {
            daemon.WaitReady();
            Assert.True(daemon.WaitForLog($"{Note} {ns.Name} (on nlf-h6a, nlf-h6b and every new interface)"), daemon.Log);
        }
        File.Delete(policy);
    }

    /// <summary>
    /// What the note is about, seen by <c>watch</c>: the link comes up, the kernel's router solicitations, duplicate
    /// address detection and listener reports are denied, and each says what it is rather than "no entry allows".
    /// </summary>
    [Fact]
    public async Task Watch_says_which_denials_are_the_kernels_IPv6_housekeeping()
    {
        using var ns = WithVethPair();
        string policy = DaemonTests.WritePolicy(DaemonTests.Policy());
        Assert.Equal(0, CliRunner.Run($"apply {policy} --netns {ns.Name}").ExitCode);
        // Router solicitations go on for seconds after the link is up: watch, started first, sees some even if it
        // binds its group late on a loaded machine.
        var watching = Task.Run(() => CliRunner.Run($"watch --policy {policy} --netns {ns.Name} --count 2 --duration 60s"));
        await Task.Delay(TimeSpan.FromSeconds(2));
        ns.Exec("ip", "link set nlf-h6a up");
        ns.Exec("ip", "link set nlf-h6b up");
        var watched = await watching;
        Assert.True(watched.ExitCode == 0, watched.Stderr);
        var denials = watched.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(denials.Length == 2, watched.Stdout + watched.Stderr);
        Assert.All(denials, line => Assert.Matches(
            @"icmpv6 .* type 13[3-6]/0 .*-- the kernel's IPv6 link housekeeping \(a (router|neighbour) (solicitation|advertisement)\)|"
            + @"icmpv6 .* type 143/0 .*-- the kernel's IPv6 link housekeeping \(a multicast listener report\)", line));
        Assert.All(denials, line => Assert.Contains("the policy names no IPv6 peer, so it closes IPv6 altogether", line));
        Assert.All(denials, line => Assert.Contains(WayOut, line));
        File.Delete(policy);
    }

    private static TestNamespace WithVethPair()
    {
        var ns = TestNamespace.Create();
        ns.Exec("ip", "link add nlf-h6a type veth peer name nlf-h6b");
        return ns;
    }
}
