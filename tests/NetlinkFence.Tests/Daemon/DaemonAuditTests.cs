using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.Faults;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// <c>learn --audit</c> while <c>netlinkfence run</c> holds the table, in both of the daemon's modes: the learner asks the
/// daemon (control socket) to add the kernel-timed audit element and to remove it at the end. In owner mode nothing else
/// could (EPERM); in watch mode the daemon would otherwise repair it away as a foreign change. During the audit, the
/// denied flow gets through, <c>verify</c> says AUDIT rather than reporting the audit element as drift, and afterwards
/// the flow is denied again and the daemon still holds the table.
/// </summary>
public sealed class DaemonAuditTests : IDisposable
{
    private const string Web = "198.51.100.8";

    private const string PolicyText = """
        version: 1
        table: netlinkfence
        hosts:
          api.ironclaw.example: [203.0.113.50]
        egress:
          allow:
            - name: ironclaw-control
              to: [api.ironclaw.example]
              tcp: [443]
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("nlf-daemon-audit-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("")]
    [InlineData("--no-owner")]
    public async Task LearnAuditGoesThroughTheDaemonAndEndsWithIt(string mode)
    {
        using var net = new AgentAndWorld(Web);
        net.ListenTcp(Web, 443);
        string policy = FaultPolicies.WriteFile(_directory, "policy.yaml", PolicyText);
        using var daemon = DaemonProcess.Start(policy, net.Agent, mode);
        daemon.WaitReady();
        Assert.Contains(mode == "" ? "mode: owner" : "mode: watch", daemon.Log);
        Assert.False(net.TcpReachable(Web, 443, 500), "the denied flow got through before the audit");

        // 20 s: the probes that find the audit open and a verify (a CLI start) must land inside it on a loaded runner.
        using var learner = FaultPolicies.StartCli($"--netns {net.Agent.Name} learn {policy} --for 20s --audit");
        var stdout = learner.StandardOutput.ReadToEndAsync();
        var stderr = learner.StandardError.ReadToEndAsync();
        bool through = DaemonProcess.WaitUntil(() => learner.HasExited || net.TcpReachable(Web, 443, 500), 60) && !learner.HasExited;
        // While it lasts: verify names the audit instead of reporting its element as drift.
        var verify = CliRunner.Run($"verify {policy} --netns {net.Agent.Name}");
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        var during = await AuditMode.ReadAsync(nft, "netlinkfence");
        await learner.WaitForExitAsync();
        string learned = await stdout, learnErr = await stderr;
        Assert.True(through, $"the audit never let the denied flow through. learn: {learned}{learnErr}\ndaemon:\n{daemon.Log}");
        Assert.True(learner.ExitCode == 0, $"learn exited {learner.ExitCode}: {learned}{learnErr}\ndaemon:\n{daemon.Log}");
        Assert.Contains("audit started by the running 'netlinkfence run' daemon", learnErr);
        Assert.NotNull(during);
        Assert.True(daemon.WaitForLog("audit: started by uid 0"), daemon.Log);
        Assert.Contains("AUDIT", verify.Stdout + verify.Stderr);
        Assert.DoesNotContain(AuditMode.SetName, verify.Stdout);
        Assert.Contains("+      tcp: [443]", learned); // the audited flow was logged and is suggested

        // Ended by the daemon: enforcing again at once, the daemon still running and holding the table.
        Assert.True(daemon.WaitForLog("audit: ended by uid 0"), daemon.Log);
        Assert.Null(await AuditMode.ReadAsync(nft, "netlinkfence"));
        Assert.False(net.TcpReachable(Web, 443, 700), "the flow is still accepted after the audit ended");
        Assert.False(daemon.HasExited, daemon.Log);
        Assert.DoesNotContain("foreign change", daemon.Log);
        Assert.DoesNotContain("AUDIT", CliRunner.Run($"verify {policy} --netns {net.Agent.Name}").Stdout);
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitExit());
    }

    /// <summary>
    /// A learner killed during its audit cannot end it: the kernel's timeout does, and the daemon, which logged the
    /// start, logs that end too (an audit accepts what the policy denies, so the journal says when it stopped).
    /// </summary>
    [Fact]
    public async Task AnAuditTheKernelEndsIsLoggedByTheDaemon()
    {
        using var net = new AgentAndWorld(Web);
        string policy = FaultPolicies.WriteFile(_directory, "policy.yaml", PolicyText);
        using var daemon = DaemonProcess.Start(policy, net.Agent);
        daemon.WaitReady();
        using var learner = FaultPolicies.StartCli($"--netns {net.Agent.Name} learn {policy} --for 6s --audit");
        Assert.True(daemon.WaitForLog("audit: started by uid 0", 60), daemon.Log);
        learner.Kill();
        await learner.WaitForExitAsync();
        Assert.True(daemon.WaitForLog("audit: ended when its time ran out at", 60), daemon.Log);
        Assert.Matches(@"audit: ended when its time ran out at \d\d:\d\d:\d\dZ \(the kernel's timeout; nobody ended it\): table inet netlinkfence enforces the policy again", daemon.Log);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        Assert.Null(await AuditMode.ReadAsync(nft, "netlinkfence"));
        Assert.DoesNotContain("audit: ended by uid", daemon.Log);
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitExit());
    }
}
