using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;
using static NetlinkFence.Tests.TestSupport.NftListing;

namespace NetlinkFence.Tests.Safety;

/// <summary>
/// Undoing an apply whose self-test failed, while another nftables user works in the same namespace, and saying
/// plainly what state that leaves.
/// </summary>
public sealed class SelfTestUndoTests
{
    private const string Elsewhere = "198.51.100.7:443";

    /// <summary>Denied by every policy here: its probe waits out the whole timeout, so the self-test lasts 1.5 s.</summary>
    private const string Slow = "198.51.100.7:8443";

    /// <summary>
    /// Lets <see cref="Elsewhere"/> through. Applied with <c>--selftest-inconclusive pass</c>: with <c>fail</c>, apply refuses
    /// the leak before the commit, and these tests are about undoing a commit whose probes failed.
    /// </summary>
    private static readonly string Leaky = SafetyPolicies.Write(SafetyPolicies.Text(extra: """
            - name: oops
              to: [0.0.0.0/0]
              tcp: [443]
        """));

    [Fact]
    public async Task ForeignNftChangesDuringTheProbesDoNotKeepTheFailedPolicyLive()
    {
        using var net = World();
        ConfirmWaiterTests.Ok($"apply {SafetyPolicies.Write(SafetyPolicies.Text())} --netns {net.Agent.Name}");
        string good = Masked(net.Agent.Nft("-j list table inet netlinkfence"));

        // Another tool (Docker, fail2ban) keeps changing its own table while the self-test probes run: over netlink from
        // this process, every 20 ms (an nft process per change made only two in a whole apply on a loaded machine).
        await using var other = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        var foreignTable = new Table(NftFamily.Inet, "foreign");
        using var stop = new CancellationTokenSource();
        int changes = 0;
        var foreign = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await other.CommitAsync(new Transaction().AddTable(foreignTable));
                await other.CommitAsync(new Transaction().DeleteTable(foreignTable));
                changes++;
                await Task.Delay(20);
            }
        });
        (int exit, string stdout, string stderr) result;
        try
        {
            result = CliRunner.Run($"apply {Leaky} --netns {net.Agent.Name} --retry 100 --selftest-inconclusive pass --expect-deny {Elsewhere} {Slow}");
        }
        finally
        {
            stop.Cancel();
            await foreign;
        }
        Assert.True(changes > 2, $"the foreign writer made only {changes} changes");
        Assert.True(result.exit == 5, $"exit {result.exit}: {result.stdout}{result.stderr}");
        Assert.Contains("self-test failed: restored table inet netlinkfence", result.stderr);
        Assert.Equal(good, Masked(net.Agent.Nft("-j list table inet netlinkfence")));
        Assert.False(net.TcpReachable("198.51.100.7", 443, 500));
    }

    [Fact]
    public void FirstApplyFailingItsSelfTestSaysEgressIsNowUnrestricted()
    {
        using var net = World();
        var (exit, stdout, stderr) = CliRunner.Run($"apply {Leaky} --netns {net.Agent.Name} --selftest-inconclusive pass --expect-deny {Elsewhere}");
        Assert.True(exit == 5, $"exit {exit}: {stdout}{stderr}");
        Assert.Contains("removed table inet netlinkfence (it did not exist before)", stderr);
        Assert.Contains("egress is UNRESTRICTED", stderr);
        Assert.Equal("", net.Agent.Nft("list ruleset"));
    }


    private static AgentAndWorld World()
    {
        var net = new AgentAndWorld("203.0.113.50", "192.168.1.20", "198.51.100.7");
        net.ListenTcp("203.0.113.50", 443);
        net.ListenTcp("198.51.100.7", 443);
        return net;
    }
}
