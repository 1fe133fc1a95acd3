using System.Text.Json;
using NetlinkFence.Cli.Daemon;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.Daemon;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Live;

/// <summary>
/// Issue 12: "<c>show</c> and <c>status</c> make an audit state impossible to miss". <c>status</c> on the kernel directly
/// with an audit started in a fresh namespace's table (the same kernel-timed element <c>learn --audit</c> adds): the
/// banner first on stdout and stderr, an <c>audit</c> object in JSON; gone once the audit ends. Through the daemon:
/// the status answer carries the audit object and the CLI prints the same banner from it.
/// </summary>
public sealed class AuditStatusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nlf-audit-status-").FullName;
    private readonly string _policy;

    public AuditStatusTests()
    {
        _policy = Path.Combine(_dir, "policy.yaml");
        File.WriteAllText(_policy, LivePolicyTests.Yaml);
        File.SetUnixFileMode(_policy, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonElement? Audit(string json) =>
        JsonDocument.Parse(json).RootElement.TryGetProperty("audit", out var audit) ? audit.Clone() : null;

    [Fact]
    public async Task StatusOnTheKernelShowsAnActiveAuditAndNothingOnceItEnds()
    {
        using var ns = TestNamespace.Create();
        var apply = CliRunner.Run($"apply {_policy} --netns {ns.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr + apply.Stdout);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });

        var enforcing = CliRunner.Run($"status --policy {_policy} --netns {ns.Name}");
        Assert.True(enforcing.ExitCode == 0, enforcing.Stderr);
        Assert.DoesNotContain("AUDIT MODE", enforcing.Stdout + enforcing.Stderr);
        Assert.Null(Audit(CliRunner.Run($"status --policy {_policy} --netns {ns.Name} --output json").Stdout));

        await AuditMode.StartAsync(nft, "netlinkfence", TimeSpan.FromMinutes(10));
        var text = CliRunner.Run($"status --policy {_policy} --netns {ns.Name}");
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.StartsWith("# !!! AUDIT MODE: table inet netlinkfence ACCEPTS", text.Stdout);
        Assert.Contains("AUDIT MODE", text.Stderr);
        Assert.Contains("updates: closed", text.Stdout);
        var json = CliRunner.Run($"status --policy {_policy} --netns {ns.Name} --output json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        var audit = Audit(json.Stdout);
        Assert.True(audit is not null, json.Stdout);
        Assert.Contains("AUDIT MODE", audit!.Value.GetProperty("banner").GetString());
        double remaining = audit.Value.GetProperty("remaining_seconds").GetDouble();
        Assert.True(remaining is > 0 and <= 600, json.Stdout);

        await AuditMode.StopAsync(nft, "netlinkfence");
        var after = CliRunner.Run($"status --policy {_policy} --netns {ns.Name}");
        Assert.DoesNotContain("AUDIT MODE", after.Stdout + after.Stderr);
    }

    /// <summary>
    /// A real daemon answers status without an audit (it enforces: the table it owns cannot be put in audit by another
    /// process); the daemon's answer with an audit, served on the control socket the CLI finds, is printed with the banner.
    /// </summary>
    [Fact]
    public async Task StatusThroughTheDaemonCarriesTheAudit()
    {
        using var ns = TestNamespace.Create();
        using (var daemon = DaemonProcess.Start(_policy, ns))
        {
            daemon.WaitReady();
            var json = CliRunner.Run($"status --policy {_policy} --netns {ns.Name} --output json");
            Assert.True(json.ExitCode == 0, json.Stderr);
            Assert.True(daemon.WaitForLog("control: status from uid 0"), daemon.Log);
            Assert.Null(Audit(json.Stdout));
            Assert.Contains("\"entry\":\"updates\"", json.Stdout.Replace(" ", ""));
            daemon.Signal("TERM");
            Assert.Equal(0, daemon.WaitExit());
        }

        var ends = DateTimeOffset.UtcNow.AddMinutes(5);
        await using var server = ControlServer.Start(DaemonPaths.ControlSocket(ns.Name, "netlinkfence"), (request, _, _) => Task.FromResult(new ControlResponse
        {
            Ok = true, Message = "status", Table = "netlinkfence", Windows = [new ControlWindow("updates", false, 0)],
            Audit = new ControlAudit("netlinkfence", 300, ends),
        }));
        var text = CliRunner.Run($"status --policy {_policy} --netns {ns.Name}");
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.StartsWith("# !!! AUDIT MODE: table inet netlinkfence ACCEPTS (and logs) what the policy denies, for 5m00s more", text.Stdout);
        Assert.Contains("AUDIT MODE", text.Stderr);
        var json2 = CliRunner.Run($"status --policy {_policy} --netns {ns.Name} --output json");
        Assert.Equal(300, Audit(json2.Stdout)!.Value.GetProperty("remaining_seconds").GetDouble());
    }

    /// <summary>
    /// A fleet's tooling reads <c>.audit.remaining_seconds</c> whichever verb it ran: show, status and verify write one
    /// shape (before, show wrote <c>remainingSeconds</c>, and only verify named the table and the end).
    /// </summary>
    [Fact]
    public async Task ShowStatusAndVerifyWriteTheSameAuditObject()
    {
        using var ns = TestNamespace.Create();
        var apply = CliRunner.Run($"apply {_policy} --netns {ns.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr + apply.Stdout);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var started = await AuditMode.StartAsync(nft, "netlinkfence", TimeSpan.FromMinutes(10));

        foreach (string verb in new[] { $"show --policy {_policy}", $"status --policy {_policy}", $"verify {_policy}" })
        {
            var run = CliRunner.Run($"{verb} --netns {ns.Name} --output json");
            Assert.True(run.ExitCode == 0, verb + ": " + run.Stderr + run.Stdout);
            var audit = Audit(run.Stdout) ?? throw new Xunit.Sdk.XunitException($"{verb}: no audit object in {run.Stdout}");
            Assert.Equal(["table", "banner", "remaining_seconds", "ends"], audit.EnumerateObject().Select(p => p.Name).ToArray());
            Assert.Equal("netlinkfence", audit.GetProperty("table").GetString());
            Assert.StartsWith("!!! AUDIT MODE: table inet netlinkfence ACCEPTS", audit.GetProperty("banner").GetString());
            Assert.InRange(audit.GetProperty("remaining_seconds").GetDouble(), 1, 600);
            Assert.InRange(audit.GetProperty("ends").GetDateTimeOffset(), started.Ends!.Value.AddSeconds(-5), started.Ends.Value.AddSeconds(5));
        }
    }

    /// <summary>
    /// An audit element without a timeout (netlinkfence never adds one; a hand-made one) never ends by itself: the banner
    /// says so and how it ends, without naming a command the library cannot complete; JSON has no time left; a new
    /// apply ends it.
    /// </summary>
    [Fact]
    public void AnAuditWithoutATimeoutSaysItLastsUntilTheNextApply()
    {
        using var ns = TestNamespace.Create();
        var apply = CliRunner.Run($"apply {_policy} --netns {ns.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr + apply.Stdout);
        ns.Nft($"add element inet netlinkfence {AuditMode.SetName} {{ ipv4 }}");

        var text = CliRunner.Run($"status --policy {_policy} --netns {ns.Name}");
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.StartsWith("# !!! AUDIT MODE: table inet netlinkfence ACCEPTS (and logs) what the policy denies, WITHOUT a timeout "
            + "(netlinkfence never starts one): applying the policy again ends it !!!", text.Stdout);
        var audit = Audit(CliRunner.Run($"show --policy {_policy} --netns {ns.Name} --output json").Stdout)!.Value;
        Assert.Equal(System.Text.Json.JsonValueKind.Null, audit.GetProperty("remaining_seconds").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, audit.GetProperty("ends").ValueKind);

        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {ns.Name}").ExitCode);
        var after = CliRunner.Run($"status --policy {_policy} --netns {ns.Name}");
        Assert.DoesNotContain("AUDIT MODE", after.Stdout + after.Stderr);
    }
}
