using System.Diagnostics;
using System.Text.Json;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Networks;
using Xunit;

namespace NetlinkFence.IntegrationTests;

/// <summary>
/// The product image of scripts/build-image.sh run the way deploy/kubernetes/daemonset.yaml runs it: every "pod"
/// container has CAP_NET_ADMIN only (cap_drop ALL), a read-only root, no-new-privileges, the policy bind-mounted
/// read-only at /etc/netlinkfence/policy.yaml, a tmpfs at /run (the emptyDir), and joins the network namespace of a
/// long-lived "node" container (container:NODE, standing in for hostNetwork: the namespace outlives the pods, as a
/// node's does; it is a private namespace on the suite's own Docker network, never this machine's). Each pod runs
/// `apply` (the init container), then the image's own entry point, the daemon; readiness is `verify`, polled.
/// Then a rolling update to a policy whose self-test fails: the old daemon stops (the table stays), the new init
/// container's apply restores the previous table and exits 5, so that pod never becomes ready.
/// </summary>
public sealed class DaemonSetLike : IAsyncLifetime
{
    public const string PolicyInPod = "/etc/netlinkfence/policy.yaml";
    private readonly List<IContainer> containers = [];
    private INetwork? network;
    private string? scratch;

    public string ImageTag { get; private set; } = "";
    public string ApiAddress { get; private set; } = "";
    public Run GoodInit { get; private set; } = null!;
    public Run? Readiness { get; private set; }
    public TimeSpan ReadyAfter { get; private set; }
    public string DaemonLog { get; private set; } = "";
    public JsonElement DaemonHostConfig { get; private set; }
    public string DaemonCapabilities { get; private set; } = "";
    public Run Probe { get; private set; } = null!;
    public long DaemonExitCode { get; private set; }
    public Run VerifyAfterDaemonStopped { get; private set; } = null!;
    public Run BadInit { get; private set; } = null!;
    public Run BadReadiness { get; private set; } = null!;
    public Run VerifyPreviousAfterBadInit { get; private set; } = null!;
    public Run ProbeAfterBadInit { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ImageTag = BuildProductImage();
        var worldImage = await TestImage.GetAsync();
        string suffix = Guid.NewGuid().ToString("N")[..8];
        network = new NetworkBuilder().WithName($"nlf-ds-{suffix}").WithCleanUp(true).Build();
        await network.CreateAsync();

        var world = Track(new ContainerBuilder(worldImage)
            .WithName($"nlf-ds-world-{suffix}").WithNetwork(network)
            .WithCommand("listen", "tcp:443", "tcp:8443", "udp:53", "tcp:53", "tcp:6514")
            .WithWaitStrategy(Wait.ForUnixContainer().UntilMessageIsLogged("listening on"))
            .WithAutoRemove(true).WithCleanUp(true).Build());
        var node = Track(new ContainerBuilder(worldImage)
            .WithName($"nlf-ds-node-{suffix}").WithNetwork(network).WithCommand("sleep")
            .WithAutoRemove(true).WithCleanUp(true).Build());
        await Task.WhenAll(world.StartAsync(), node.StartAsync());
        ApiAddress = world.IpAddress;

        // v1: the example pointed at the world container, with a self-test that passes. v2 also opens 8443, which
        // its own self-test says must stay denied: a policy change that breaks what the fleet relies on.
        string selfTest = $"\nselftest:\n  allow: [\"{ApiAddress}:443\"]\n  deny: [\"{ApiAddress}:8443\"]\n";
        string good = Topology.RenderExamplePolicy(ApiAddress, ApiAddress, ApiAddress) + selfTest;
        string bad = good.Replace("tcp: [443]", "tcp: [443, 8443]", StringComparison.Ordinal);
        Assert.NotEqual(good, bad);
        scratch = Directory.CreateTempSubdirectory("nlf-ds-").FullName;
        string goodFile = WritePolicy("v1.yaml", good), badFile = WritePolicy("v2.yaml", bad);

        IContainer Pod(string name, string policyFile, string[]? command, bool oneShot = false)
        {
            var builder = new ContainerBuilder(ImageTag)
                .WithName($"nlf-ds-{name}-{suffix}")
                .WithBindMount(policyFile, PolicyInPod, AccessMode.ReadOnly)
                .WithCleanUp(true)
                .WithCreateParameterModifier(p =>
                {
                    p.HostConfig!.NetworkMode = $"container:{node.Id}";
                    p.HostConfig.Privileged = false;
                    p.HostConfig.CapDrop = ["ALL"];
                    p.HostConfig.CapAdd = ["NET_ADMIN"];
                    p.HostConfig.ReadonlyRootfs = true;
                    p.HostConfig.SecurityOpt = ["no-new-privileges"];
                    p.HostConfig.Tmpfs = new Dictionary<string, string> { ["/run"] = "" };
                });
            if (command is not null)
                builder = builder.WithCommand(command);
            if (oneShot)   // it may have exited by the time Testcontainers looks: GetExitCodeAsync waits for the end
                builder = builder.WithWaitStrategy(Wait.ForUnixContainer().AddCustomWaitStrategy(new Started(), o => o.WithMode(WaitStrategyMode.OneShot)));
            return Track(builder.Build());
        }
        async Task<Run> RunToEnd(string name, string policyFile, params string[] command)
        {
            var container = Pod(name, policyFile, command, oneShot: true);
            await container.StartAsync();
            long exit = await container.GetExitCodeAsync();
            var (stdout, stderr) = await container.GetLogsAsync(timestampsEnabled: false);
            return new Run($"[{name}] netlinkfence {string.Join(" ", command)}", exit, stdout, stderr);
        }

        GoodInit = await RunToEnd("init-v1", goodFile, "apply", PolicyInPod);
        var daemon = Pod("daemon-v1", goodFile, command: null);   // the image's own CMD: run /etc/netlinkfence/policy.yaml
        await daemon.StartAsync();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var result = await daemon.ExecAsync(["/usr/sbin/netlinkfence", "verify", PolicyInPod]);
            Readiness = new Run("[daemon-v1] readiness: netlinkfence verify", result.ExitCode ?? -1, result.Stdout, result.Stderr);
            if (result.ExitCode == 0)
                break;
            await Task.Delay(500);
        }
        ReadyAfter = clock.Elapsed;
        var inspect = JsonDocument.Parse(Docker("inspect", daemon.Id)).RootElement[0];
        DaemonHostConfig = inspect.GetProperty("HostConfig").Clone();
        int pid = inspect.GetProperty("State").GetProperty("Pid").GetInt32();
        DaemonCapabilities = string.Join("\n", File.ReadAllLines($"/proc/{pid}/status").Where(l => l.StartsWith("Cap", StringComparison.Ordinal)));
        var probe = await daemon.ExecAsync(["/usr/sbin/netlinkfence", "probe", $"tcp:{ApiAddress}:443", $"tcp:{ApiAddress}:8443"]);
        Probe = new Run("[daemon-v1] netlinkfence probe", probe.ExitCode ?? -1, probe.Stdout, probe.Stderr);

        // The rolling update: the old pod goes first (maxSurge 0), then the new pod's init container runs.
        await daemon.StopAsync();   // SIGTERM
        DaemonExitCode = await daemon.GetExitCodeAsync();
        DaemonLog = string.Concat(await daemon.GetLogsAsync(timestampsEnabled: false));
        VerifyAfterDaemonStopped = await RunToEnd("verify-gap", goodFile, "verify", PolicyInPod);
        BadInit = await RunToEnd("init-v2", badFile, "apply", PolicyInPod);
        BadReadiness = await RunToEnd("readiness-v2", badFile, "verify", PolicyInPod);
        VerifyPreviousAfterBadInit = await RunToEnd("verify-v1", goodFile, "verify", PolicyInPod);
        ProbeAfterBadInit = await RunToEnd("probe-v1", goodFile, "probe", $"tcp:{ApiAddress}:8443");
    }

    private sealed class Started : IWaitUntil
    {
        public Task<bool> UntilAsync(IContainer container) => Task.FromResult(true);
    }

    private IContainer Track(IContainer container)
    {
        containers.Add(container);
        return container;
    }

    private string WritePolicy(string name, string text)
    {
        string path = Path.Combine(scratch!, name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);   // 0600 root, like the .deb's
        return path;
    }

    /// <summary>scripts/build-image.sh with the suite's binary, under a tag of the suite's own (removed at the end).</summary>
    private static string BuildProductImage()
    {
        string output = RunProcess("bash", Path.Combine(TestImage.RepositoryRoot, "scripts/build-image.sh"), "--binary", TestImage.NetlinkfenceBinary, "--tag", "netlinkfence-it-daemonset");
        return output.TrimEnd().Split('\n')[^1];
    }

    private static string Docker(params string[] arguments) => RunProcess("docker", arguments);

    private static void TryRunProcess(string program, params string[] arguments)
    {
        try
        {
            RunProcess(program, arguments);
        }
        catch (InvalidOperationException)
        {
            // already gone (an auto-removed container)
        }
    }

    private static string RunProcess(string program, params string[] arguments)
    {
        var psi = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(" ", arguments)} exited {process.ExitCode}:\n{stdout}{stderr.Result}");
        return stdout;
    }

    public async Task DisposeAsync()
    {
        foreach (var container in containers)
        {
            string id = container.Id;
            await container.DisposeAsync();
            // The pods are not auto-removed (their exit codes and logs are read after they end), and without Ryuk
            // nothing else removes a stopped container.
            if (id.Length > 0)
                TryRunProcess("docker", "rm", "--force", id);
        }
        if (network is not null)
            await NetworkCleanup.DeleteWhenEmptyAsync(network);
        if (ImageTag.Length > 0)
            Docker("image", "rm", "--force", ImageTag);
        if (scratch is not null)
            Directory.Delete(scratch, recursive: true);
    }
}

/// <summary>One recorded fact of <see cref="DaemonSetLike"/> per test.</summary>
public sealed class DaemonSetLikeTests(DaemonSetLike pod) : IClassFixture<DaemonSetLike>
{
    [Fact]
    public void The_init_containers_apply_with_a_passing_self_test_exits_0() =>
        Assert.True(pod.GoodInit.ExitCode == 0, pod.GoodInit.ToString());

    [Fact]
    public void The_daemon_becomes_ready_by_verify()
    {
        Assert.NotNull(pod.Readiness);
        Assert.True(pod.Readiness.ExitCode == 0, $"not ready after {pod.ReadyAfter.TotalSeconds:0}s: {pod.Readiness}");
        Assert.Contains("matches", pod.Readiness.Stdout);
    }

    [Fact]
    public void The_daemon_runs_with_NET_ADMIN_only_a_read_only_root_and_no_privilege()
    {
        var hostConfig = pod.DaemonHostConfig;
        Assert.False(hostConfig.GetProperty("Privileged").GetBoolean());
        Assert.True(hostConfig.GetProperty("ReadonlyRootfs").GetBoolean());
        Assert.Equal(["NET_ADMIN"], hostConfig.GetProperty("CapAdd").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["ALL"], hostConfig.GetProperty("CapDrop").EnumerateArray().Select(e => e.GetString()));
        Assert.StartsWith("container:", hostConfig.GetProperty("NetworkMode").GetString());   // never "host"
        // The kernel's view of the running daemon: CAP_NET_ADMIN (bit 12) is its only capability, and it can gain none.
        Assert.Contains("CapEff:\t0000000000001000", pod.DaemonCapabilities);
        Assert.Contains("CapBnd:\t0000000000001000", pod.DaemonCapabilities);
    }

    [Fact]
    public void The_daemon_owns_the_table_it_enforces()
    {
        Assert.Contains("mode: owner", pod.DaemonLog);
        Assert.Equal(("ALLOWED", "connected"), Topology.Outcome(pod.Probe, $"tcp:{pod.ApiAddress}:443"));
        Assert.Equal("DENIED", Topology.Outcome(pod.Probe, $"tcp:{pod.ApiAddress}:8443").Verdict);
    }

    [Fact]
    public void Stopping_the_daemon_leaves_the_table_in_place()
    {
        Assert.True(pod.DaemonExitCode == 0, $"the daemon exited {pod.DaemonExitCode} on SIGTERM:\n{pod.DaemonLog}");
        Assert.True(pod.VerifyAfterDaemonStopped.ExitCode == 0, pod.VerifyAfterDaemonStopped.ToString());
    }

    [Fact]
    public void A_policy_whose_self_test_fails_is_rolled_back_by_the_init_container()
    {
        Assert.True(pod.BadInit.ExitCode == 5, pod.BadInit.ToString());
        Assert.Contains("self-test failed", pod.BadInit.Stderr);
    }

    [Fact]
    public void The_pod_with_the_failed_policy_shows_not_ready()
    {
        Assert.True(pod.BadReadiness.ExitCode == 1, pod.BadReadiness.ToString());
        Assert.Contains("does NOT match", pod.BadReadiness.Stdout);
    }

    [Fact]
    public void The_node_keeps_enforcing_the_previous_policy()
    {
        Assert.True(pod.VerifyPreviousAfterBadInit.ExitCode == 0, pod.VerifyPreviousAfterBadInit.ToString());
        Assert.Equal("DENIED", Topology.Outcome(pod.ProbeAfterBadInit, $"tcp:{pod.ApiAddress}:8443").Verdict);
    }
}
