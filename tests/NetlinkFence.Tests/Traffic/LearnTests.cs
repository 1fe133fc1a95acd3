using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NetlinkFence.Interop;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.Faults;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Traffic;

/// <summary>
/// <c>netlinkfence learn</c> against real traffic in an agent/world pair: the chrony story (NTP to an address the
/// policy does not name becomes a suggested entry that then lets it through), and audit mode, which must end by
/// itself in the kernel, also when the learner is SIGKILLed.
/// </summary>
public sealed class LearnTests : IDisposable
{
    private const string Ntp = "198.51.100.7", Web = "198.51.100.8";

    private const string PolicyText = """
        version: 1
        table: netlinkfence
        # The agent's policy: its control plane and its resolver; chrony was forgotten.
        define:
          resolvers: [192.168.1.10]
        hosts:
          api.ironclaw.example: [203.0.113.50]
        log:
          prefix: "EGRESS-DENIED: "
          rate: 50/second
        egress:
          dns:
            resolvers: $resolvers
          allow:
            - name: ironclaw-control   # the management platform
              to: [api.ironclaw.example]
              tcp: [443]
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("nlf-learn-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task ApplyAsync(NftablesConnection nft, string text, string file) =>
        // The host's services: a learned entry may say 'by:' (the user or unit that sent the denials).
        await PolicyApplier.ApplyAsync(nft, PolicyCompiler.Compile(await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(text, file), new FixedResolver(), new NetlinkFence.Runtime.HostServices())));

    /// <summary>
    /// Runs the CLI (<paramref name="arguments"/>: a learn) and sends NTP queries from the agent until it exits (it binds
    /// the NFLOG group some time after it starts); its standard output, once it exited 0.
    /// </summary>
    private static async Task<string> LearnWhileNtpAsync(AgentAndWorld net, string arguments)
    {
        using var learner = FaultPolicies.StartCli(arguments);
        var stdout = learner.StandardOutput.ReadToEndAsync();
        var stderr = learner.StandardError.ReadToEndAsync();
        while (!learner.HasExited)
            net.UdpReachable(Ntp, 123, 300);
        await learner.WaitForExitAsync();
        string output = await stdout, errors = await stderr;
        Assert.True(learner.ExitCode == 0, $"learn exited {learner.ExitCode}: {output}{errors}");
        return output;
    }

    [Fact]
    public async Task TheChronyStoryNtpToAnUnnamedAddressBecomesAnEntryThatThenAllowsIt()
    {
        using var net = new AgentAndWorld(Ntp, "192.168.1.10");
        net.ListenUdp(Ntp, 123);
        Assert.True(net.UdpReachable(Ntp, 123, AgentAndWorld.ExpectedThroughMs), "the NTP responder does not answer without a policy");
        string policy = FaultPolicies.WriteFile(_directory, "policy.yaml", PolicyText);
        string merged = Path.Combine(_directory, "merged.yaml");
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await ApplyAsync(nft, PolicyText, policy);
        Assert.False(net.UdpReachable(Ntp, 123, 500), "NTP got through a policy that does not allow it");

        // chrony: NTP queries until the learner is done.
        string output = await LearnWhileNtpAsync(net, $"--netns {net.Agent.Name} learn {policy} --for 5s --write {merged}");

        Assert.Contains("+    - name: learned-198-51-100-7", output);
        Assert.Contains($"+      to: [{Ntp}]", output);
        Assert.Contains("+      udp: [123]", output);
        Assert.Matches(@"\+    #   udp/123: \d+ x, first \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, last ", output);
        Assert.Contains($"wrote the merged policy to {merged}", output);

        // The written policy keeps the user's text and allows NTP to that address, and nothing else new.
        string written = File.ReadAllText(merged);
        Assert.StartsWith(PolicyText, written);
        Assert.Contains("- name: ironclaw-control   # the management platform", written);
        await ApplyAsync(nft, written, merged);
        Assert.True(net.UdpReachable(Ntp, 123, AgentAndWorld.ExpectedThroughMs), "the learned entry does not let NTP through");
        Assert.False(net.UdpReachable(Ntp, 124, 500), "the learned entry opened more than udp/123");

        // lint: no new errors (the CLI, as a user would run it).
        var (_, before, _) = CliRunner.Run($"lint --output json {policy}");
        var (_, after, _) = CliRunner.Run($"lint --output json {merged}");
        Assert.Equal(Count(before, "\"error\""), Count(after, "\"error\""));
        Assert.Contains("\"findings\"", after);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" --audit")] // accepted and logged by the audit rules at the same rate
    public async Task Denials_over_the_log_rate_while_learning_are_a_warning_that_suggestions_may_be_missing(string audit)
    {
        using var net = new AgentAndWorld(Ntp, "192.168.1.10");
        string text = PolicyText.Replace("rate: 50/second", "rate: 1/second", StringComparison.Ordinal);
        string policy = FaultPolicies.WriteFile(_directory, "policy.yaml", text);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await ApplyAsync(nft, text, policy);

        // Bursts of denied NTP datagrams until learn exits: far more than 1/second (burst 5) gets into the log.
        using var learner = FaultPolicies.StartCli($"--netns {net.Agent.Name} learn {policy} --for 4s{audit}");
        var stdout = learner.StandardOutput.ReadToEndAsync();
        var stderr = learner.StandardError.ReadToEndAsync();
        var socket = NetworkNamespace.Run(net.Agent.Path, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        using (socket)
        {
            while (!learner.HasExited)
            {
                for (int i = 0; i < 20; i++)
                {
                    try
                    {
                        socket.SendTo("x"u8, new IPEndPoint(IPAddress.Parse(Ntp), 123));
                    }
                    catch (SocketException)
                    {
                        // EPERM: denied (not in audit mode)
                    }
                }
                await Task.Delay(100);
            }
        }
        await learner.WaitForExitAsync();
        string output = await stdout, errors = await stderr;
        Assert.True(learner.ExitCode == 0, output + errors);
        Assert.Matches(@"netlinkfence: warning: \d+ denied packet\(s\) came over log\.rate meanwhile and are in no log: the suggestions below may miss destinations; "
            + @"learn again with a higher log\.rate \(or none\) in the live policy", errors);
        Assert.Contains($"+      to: [{Ntp}]", output); // what was logged is still suggested
    }

    [Fact]
    public async Task A_closed_window_s_denials_are_a_finding_whose_open_command_opens_it_where_learn_listened()
    {
        using var net = new AgentAndWorld(Ntp, "192.168.1.10");
        net.ListenUdp(Ntp, 123);
        string text = PolicyText + $"""

                - name: time-sync   # opened for a clock step, then closed again by the kernel
                  to: [{Ntp}]
                  udp: [123]
                  window: 1m
            """;
        string policy = FaultPolicies.WriteFile(_directory, "policy.yaml", text);
        await using (var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name }))
            await ApplyAsync(nft, text, policy);
        Assert.False(net.UdpReachable(Ntp, 123, 500), "a closed window let NTP through");

        string output = await LearnWhileNtpAsync(net, $"--netns {net.Agent.Name} learn {policy} --for 5s --output json");

        using var json = System.Text.Json.JsonDocument.Parse(output);
        Assert.Empty(json.RootElement.GetProperty("entries").EnumerateArray()); // a permanent entry would undo the window
        var finding = Assert.Single(json.RootElement.GetProperty("findings").EnumerateArray());
        Assert.Equal("window-closed", finding.GetProperty("code").GetString());
        Assert.Equal("time-sync", finding.GetProperty("entry").GetString());
        string open = $"netlinkfence open time-sync --policy {policy} --netns {net.Agent.Name}";
        Assert.EndsWith($"for the run that needs it: '{open}'", finding.GetProperty("message").GetString());

        var opened = CliRunner.Run(open["netlinkfence ".Length..] + " --for 30s");
        Assert.True(opened.ExitCode == 0, opened.Stderr);
        Assert.True(net.UdpReachable(Ntp, 123, AgentAndWorld.ExpectedThroughMs), "the printed open must open the window learn reported");
    }

    [Fact]
    public async Task LearnSuggestsByWithTheUnitOfTheServiceThatSentTheDenialsAndWritesIt()
    {
        using var net = new AgentAndWorld(Ntp, "192.168.1.10");
        using var cgroups = TestCgroup.Create("foo.service");
        string policy = FaultPolicies.WriteFile(_directory, "policy.yaml", PolicyText);
        string merged = Path.Combine(_directory, "merged.yaml");
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await ApplyAsync(nft, PolicyText, policy);

        using var learner = FaultPolicies.StartCli($"--netns {net.Agent.Name} learn {policy} --for 5s --write {merged}");
        var stdout = learner.StandardOutput.ReadToEndAsync();
        var stderr = learner.StandardError.ReadToEndAsync();
        // The service: one UDP socket, an NTP query every 200 ms until it is killed (learn binds NFLOG some time after it starts).
        cgroups["foo.service"].Start($"ip netns exec {net.Agent.Name} bash -c \"exec 3>/dev/udp/{Ntp}/123; while :; do echo x >&3; sleep 0.2; done\"");
        await learner.WaitForExitAsync();
        string output = await stdout;
        Assert.True(learner.ExitCode == 0, $"learn exited {learner.ExitCode}: {output}{await stderr}");

        Assert.Contains("+      udp: [123]", output);
        Assert.Contains("+      by: { unit: foo.service }", output);
        Assert.Matches(@"\+    #   udp/123: \d+ x, .*, from root \(uid 0\); cgroups foo\.service\n", output);
        var written = PolicyLoader.Load(File.ReadAllText(merged), merged).Egress[^1];
        Assert.Equal([new ServiceScope(ServiceScopeKind.Unit, "foo.service")], written.By);
    }

    [Fact]
    public async Task AnUnnamedAddressIsNamedByReverseDnsThroughThePolicysResolver()
    {
        using var net = new AgentAndWorld(Ntp, "192.168.1.10");
        net.ListenUdp(Ntp, 123);
        // The resolver: dnsmasq in the world, answering PTR for the NTP server (reached from the agent, as the policy allows).
        using var dnsmasq = Process.Start(new ProcessStartInfo("ip",
            $"netns exec {net.World.Name} /usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces --listen-address=192.168.1.10 "
            + $"--pid-file={_directory}/dnsmasq.pid --ptr-record=7.100.51.198.in-addr.arpa,ntp1.example.net")
            { RedirectStandardError = true, UseShellExecute = false })!;
        try
        {
            string policy = FaultPolicies.WriteFile(_directory, "policy.yaml", PolicyText);
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
            await ApplyAsync(nft, PolicyText, policy);

            string output = await LearnWhileNtpAsync(net, $"--netns {net.Agent.Name} learn {policy} --for 5s");
            Assert.Contains("+    - name: ntp1-example-net", output);
            Assert.Contains($"is ntp1.example.net by reverse DNS", output);
            Assert.Contains($"+      to: [{Ntp}]", output);
        }
        finally
        {
            dnsmasq.Kill();
            await dnsmasq.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task AuditAcceptsAndLogsDeniedFlowsThenEnforcementReturns()
    {
        using var net = new AgentAndWorld(Web, "192.168.1.10");
        net.ListenTcp(Web, 443);
        string policy = FaultPolicies.WriteFile(_directory, "policy.yaml", PolicyText);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await ApplyAsync(nft, PolicyText, policy);
        Assert.False(net.TcpReachable(Web, 443, 500));
        Assert.Null(await AuditMode.ReadAsync(nft, "netlinkfence"));

        // 20 s: the probes that find the audit open and a show (a CLI start) must land inside it on a loaded runner.
        using var learner = FaultPolicies.StartCli($"--netns {net.Agent.Name} learn {policy} --for 20s --audit");
        var stdout = learner.StandardOutput.ReadToEndAsync();
        var stderr = learner.StandardError.ReadToEndAsync();
        Assert.True(await EventuallyAsync(() => net.TcpReachable(Web, 443, 500), learner), "audit mode never let the denied flow through");

        // While it lasts: show says so, on stdout and stderr.
        var state = await AuditMode.ReadAsync(nft, "netlinkfence");
        var (_, shown, shownErr) = CliRunner.Run($"--netns {net.Agent.Name} show");
        await learner.WaitForExitAsync();
        string output = await stdout;
        Assert.True(learner.ExitCode == 0, $"learn exited {learner.ExitCode}: {output}{await stderr}");
        Assert.NotNull(state);
        Assert.Contains("AUDIT MODE", shown);
        Assert.Contains("AUDIT MODE", shownErr);

        // It was logged (the learner suggests it) and is denied again now that the learner ended the audit.
        Assert.Contains("+      tcp: [443]", output);
        Assert.False(net.TcpReachable(Web, 443, 700), "the flow is still accepted after the audit ended");
        Assert.Null(await AuditMode.ReadAsync(nft, "netlinkfence"));
        var (_, after, _) = CliRunner.Run($"--netns {net.Agent.Name} show");
        Assert.DoesNotContain("AUDIT MODE", after);
    }

    [Fact]
    public async Task AuditEndsInTheKernelWhenTheLearnerIsKilled()
    {
        using var net = new AgentAndWorld(Web, "192.168.1.10");
        net.ListenTcp(Web, 443);
        string policy = FaultPolicies.WriteFile(_directory, "policy.yaml", PolicyText);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await ApplyAsync(nft, PolicyText, policy);

        using var learner = FaultPolicies.StartCli($"--netns {net.Agent.Name} learn {policy} --for 10s --audit");
        Assert.True(await EventuallyAsync(() => net.TcpReachable(Web, 443, 500), learner), "audit mode never let the denied flow through");
        var state = await AuditMode.ReadAsync(nft, "netlinkfence");
        learner.Kill(); // SIGKILL: no finally, no cleanup
        await learner.WaitForExitAsync();
        Assert.Equal(137, learner.ExitCode);
        Assert.NotNull(state); // the learner died with its audit still on in the kernel
        Assert.NotNull(state.Ends);

        // Nobody ends it but the element's timeout: wait past it, with margin.
        var wait = state.Ends!.Value - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(3);
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait);
        Assert.False(net.TcpReachable(Web, 443, 700), "the audit accept outlived its kernel timeout");
        Assert.Null(await AuditMode.ReadAsync(nft, "netlinkfence"));
        var live = await nft.ListTableAsync(NftFamily.Inet, "netlinkfence");
        var drop = live!.RulesOf(PolicyCompiler.EgressDeniedChain).Last().Expressions.OfType<NetlinkFence.Nftables.Expressions.CounterExpression>().Single();
        Assert.True(drop.Packets > 0, "the flow was not dropped by egress_denied after the audit");
    }

    [Fact]
    public async Task AuditRecordsSayAcceptAndStopEndsTheAuditAtOnce()
    {
        using var net = new AgentAndWorld(Web, "192.168.1.10");
        net.ListenTcp(Web, 443);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await ApplyAsync(nft, PolicyText, "policy.yaml");
        await using var reader = await NetlinkFence.Logging.NflogReader.OpenAsync(LogSettings.DefaultGroup, net.Agent.Name);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var records = reader.ReadAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);

        var state = await AuditMode.StartAsync(nft, "netlinkfence", TimeSpan.FromMinutes(5));
        Assert.InRange(state.Remaining!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        Assert.Contains("AUDIT MODE", state.Banner);
        var counter = new NetlinkFence.Cli.DeniedCounter(nft, "netlinkfence");
        var before = await counter.ReadAsync(CancellationToken.None);
        Assert.True(net.TcpReachable(Web, 443, AgentAndWorld.ExpectedThroughMs), "audit mode did not accept the denied flow");
        var after = await counter.ReadAsync(CancellationToken.None);
        // probe's evidence: what audit mode accepts is not counted as dropped (nothing is dropped while it lasts).
        Assert.Equal(before.Dropped, after.Dropped);
        var audited = await NextToAsync(records, Web);
        Assert.Equal("accept", audited.Verdict);
        Assert.Equal(PolicyCompiler.AuditLogPrefix, audited.Prefix);
        Assert.Equal(PolicyCompiler.EgressDeniedChain, audited.Chain);

        await AuditMode.StopAsync(nft, "netlinkfence");
        Assert.Null(await AuditMode.ReadAsync(nft, "netlinkfence"));
        Assert.False(net.TcpReachable(Web, 443, 700), "the flow is still accepted after StopAsync");
        var denied = await NextToAsync(records, Web, verdict: "drop");
        Assert.Equal("EGRESS-DENIED: ", denied.Prefix);
    }

    private static async Task<NetlinkFence.Logging.DenialRecord> NextToAsync(IAsyncEnumerator<NetlinkFence.Logging.DenialRecord> records, string destination, string? verdict = null)
    {
        while (await records.MoveNextAsync())
        {
            var record = records.Current;
            if (record.Destination?.ToString() == destination && (verdict is null || record.Verdict == verdict))
                return record;
        }
        throw new InvalidOperationException("the record stream ended");
    }

    /// <summary>Polls <paramref name="probe"/> until it is true or the learner has ended (then one last try).</summary>
    private static async Task<bool> EventuallyAsync(Func<bool> probe, Process learner)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !learner.HasExited)
        {
            if (probe())
                return true;
            await Task.Delay(200);
        }
        return false;
    }

    private static int Count(string text, string what) => (text.Length - text.Replace(what, "").Length) / what.Length;
}
