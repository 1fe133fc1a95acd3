using System.Text.RegularExpressions;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Networks;
using Xunit;

namespace NetlinkFence.IntegrationTests;

/// <summary>The outcome of one command run inside a container.</summary>
public sealed record Run(string Command, long ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"$ {Command}\nexit {ExitCode}\n{Stdout}{Stderr}";
}

/// <summary>
/// A private Docker network with an "agent" container (privileged, or only CAP_NET_ADMIN) and four "world"
/// containers: the IronClaw API (tcp 443, 8443), the DNS resolver (udp/tcp 53), the syslog collector (tcp 6514) and
/// an unlisted host (the same ports, so a denial there is the firewall's doing, not a closed port). The whole
/// scenario runs once in <see cref="InitializeAsync"/>; each test then asserts one recorded fact.
/// </summary>
public abstract class Topology : IAsyncLifetime
{
    private const string PolicyPath = "/tmp/policy.yaml";
    private const string TamperedPolicyPath = "/tmp/tampered.yaml";
    private const string NflogPolicyPath = "/tmp/nflog.yaml";
    private readonly List<IContainer> containers = [];
    private INetwork? network;

    protected abstract bool Privileged { get; }

    public string ApiAddress { get; private set; } = "";
    public string ResolverAddress { get; private set; } = "";
    public string CollectorAddress { get; private set; } = "";
    public string UnlistedAddress { get; private set; } = "";

    public string[] AllowedFlows { get; private set; } = [];
    public string[] DeniedFlows { get; private set; } = [];

    public string Policy { get; private set; } = "";
    public Run ProbeBefore { get; private set; } = null!;
    public Run FirstApply { get; private set; } = null!;
    public Run ShowAfterApply { get; private set; } = null!;
    public Run ProbeEnforced { get; private set; } = null!;
    public Run ShowAfterProbes { get; private set; } = null!;
    public Run SecondApply { get; private set; } = null!;
    public Run ShowAfterSecondApply { get; private set; } = null!;
    public Run VerifyIntact { get; private set; } = null!;
    public Run ForeignTamper { get; private set; } = null!;
    public Run VerifyAfterForeignTamper { get; private set; } = null!;
    public Run ProbeAfterForeignTamper { get; private set; } = null!;
    public Run RepairApply { get; private set; } = null!;
    public Run VerifyAfterRepair { get; private set; } = null!;
    public Run ProbeAfterRepair { get; private set; } = null!;
    public Run TamperApply { get; private set; } = null!;
    public Run VerifyTampered { get; private set; } = null!;
    public Run ProbeTampered { get; private set; } = null!;
    public Run NflogApply { get; private set; } = null!;
    public Run NflogProbe { get; private set; } = null!;
    public Run NflogReader { get; private set; } = null!;
    public string[] NflogDeniedFlows { get; private set; } = [];
    public Run Remove { get; private set; } = null!;
    public Run ShowAfterRemove { get; private set; } = null!;
    public Run ProbeAfterRemove { get; private set; } = null!;

    public IContainer Agent { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var image = await TestImage.GetAsync();
        string suffix = Guid.NewGuid().ToString("N")[..8];
        network = new NetworkBuilder().WithName($"nlf-it-{suffix}").WithCleanUp(true).Build();
        await network.CreateAsync();

        IContainer World(string name, params string[] listeners)
        {
            var container = new ContainerBuilder(image)
                .WithName($"nlf-it-{name}-{suffix}")
                .WithNetwork(network)
                .WithNetworkAliases(name)
                .WithCommand(["listen", .. listeners])
                .WithWaitStrategy(Wait.ForUnixContainer().UntilMessageIsLogged("listening on"))
                .WithAutoRemove(true)   // without Ryuk nothing else removes a stopped container
                .WithCleanUp(true)
                .Build();
            containers.Add(container);
            return container;
        }
        var api = World("ironclaw-api", "tcp:443", "tcp:8443");
        var resolver = World("resolver", "udp:53", "tcp:53");
        var collector = World("syslog", "tcp:6514");
        var unlisted = World("unlisted", "tcp:443", "tcp:8443", "udp:53", "tcp:53", "tcp:6514");

        var agentBuilder = new ContainerBuilder(image)
            .WithName($"nlf-it-agent-{suffix}")
            .WithNetwork(network)
            .WithCommand("sleep")
            .WithAutoRemove(true)
            .WithCleanUp(true);
        agentBuilder = Privileged
            ? agentBuilder.WithPrivileged(true)
            : agentBuilder.WithCreateParameterModifier(p => p.HostConfig!.CapAdd = ["NET_ADMIN"]);
        Agent = agentBuilder.Build();
        containers.Add(Agent);

        await Task.WhenAll(containers.Select(c => c.StartAsync()));
        ApiAddress = api.IpAddress;
        ResolverAddress = resolver.IpAddress;
        CollectorAddress = collector.IpAddress;
        UnlistedAddress = unlisted.IpAddress;

        AllowedFlows = [$"tcp:{ApiAddress}:443", $"udp:{ResolverAddress}:53", $"tcp:{ResolverAddress}:53", $"tcp:{CollectorAddress}:6514"];
        DeniedFlows =
        [
            $"tcp:{ApiAddress}:8443",        // the allowed host, on a port the policy does not list
            $"udp:{UnlistedAddress}:53",     // DNS to a non-resolver
            $"tcp:{UnlistedAddress}:53",
            $"udp:{ApiAddress}:53",          // DNS to an allowed host that is not a resolver
            $"tcp:{UnlistedAddress}:443",    // everything to the unlisted host
            $"tcp:{UnlistedAddress}:8443",
            $"tcp:{UnlistedAddress}:6514",
            $"tcp:{CollectorAddress}:443",   // the collector on another port
        ];

        Policy = RenderExamplePolicy(ApiAddress, ResolverAddress, CollectorAddress);
        await Agent.CopyAsync(System.Text.Encoding.UTF8.GetBytes(Policy), PolicyPath, fileMode: Unix644);
        // A second tamper: someone with CAP_NET_ADMIN widens the live table by applying a policy that also opens
        // 8443 to the API host; verify of the original policy must notice that too.
        string tampered = Policy.Replace("tcp: [443]", "tcp: [443, 8443]", StringComparison.Ordinal);
        Assert.NotEqual(Policy, tampered);
        await Agent.CopyAsync(System.Text.Encoding.UTF8.GetBytes(tampered), TamperedPolicyPath, fileMode: Unix644);

        // The same policy with denials logged to NFLOG group 100 instead of the kernel log (which a container's
        // namespace only reaches with the host-wide sysctl nf_log_all_netns=1).
        string nflog = Policy.Replace("  rate: 10/second\n", "  rate: 10/second\n  group: 100\n", StringComparison.Ordinal);
        Assert.NotEqual(Policy, nflog);
        await Agent.CopyAsync(System.Text.Encoding.UTF8.GetBytes(nflog), NflogPolicyPath, fileMode: Unix644);

        string[] everyFlow = [.. AllowedFlows, .. DeniedFlows];
        ProbeBefore = await Netlinkfence(["probe", .. everyFlow]);
        FirstApply = await Netlinkfence("apply", PolicyPath);
        ShowAfterApply = await Netlinkfence("show");
        ProbeEnforced = await Netlinkfence(["probe", .. everyFlow]);
        ShowAfterProbes = await Netlinkfence("show");
        SecondApply = await Netlinkfence("apply", PolicyPath);
        ShowAfterSecondApply = await Netlinkfence("show");
        VerifyIntact = await Netlinkfence("verify", PolicyPath);
        // The tamper: another program (nlf-world, through the library, not netlinkfence) inserts an accept for
        // 8443 to the API host at the head of the output chain.
        ForeignTamper = await Exec(Agent, ["/usr/bin/nlf-world", "tamper", "netlinkfence", ApiAddress, "8443"]);
        VerifyAfterForeignTamper = await Netlinkfence("verify", PolicyPath);
        ProbeAfterForeignTamper = await Netlinkfence("probe", $"tcp:{ApiAddress}:8443");
        RepairApply = await Netlinkfence("apply", PolicyPath);
        VerifyAfterRepair = await Netlinkfence("verify", PolicyPath);
        ProbeAfterRepair = await Netlinkfence("probe", $"tcp:{ApiAddress}:8443");
        TamperApply = await Netlinkfence("apply", TamperedPolicyPath);
        VerifyTampered = await Netlinkfence("verify", PolicyPath);
        ProbeTampered = await Netlinkfence("probe", $"tcp:{ApiAddress}:8443");
        NflogApply = await Netlinkfence("apply", NflogPolicyPath);
        NflogDeniedFlows = [$"tcp:{ApiAddress}:8443", $"udp:{UnlistedAddress}:53", $"tcp:{UnlistedAddress}:443"];
        var reader = Exec(Agent, ["/usr/bin/nlf-world", "nflog", "100", "5000"]);
        await Task.Delay(1500);   // let the reader bind its group before the first denial
        NflogProbe = await Netlinkfence(["probe", "--timeout-ms", "500", .. NflogDeniedFlows]);
        NflogReader = await reader;
        Remove = await Netlinkfence("remove");
        ShowAfterRemove = await Netlinkfence("show");
        ProbeAfterRemove = await Netlinkfence(["probe", .. everyFlow]);
    }

    private const DotNet.Testcontainers.Configurations.UnixFileModes Unix644 =
        DotNet.Testcontainers.Configurations.UnixFileModes.UserRead | DotNet.Testcontainers.Configurations.UnixFileModes.UserWrite
        | DotNet.Testcontainers.Configurations.UnixFileModes.GroupRead | DotNet.Testcontainers.Configurations.UnixFileModes.OtherRead;

    public Task<Run> Netlinkfence(params string[] arguments) => Exec(Agent, ["/usr/bin/netlinkfence", .. arguments]);

    private static async Task<Run> Exec(IContainer container, string[] command)
    {
        var result = await container.ExecAsync(command);
        return new Run(string.Join(" ", command), result.ExitCode ?? -1, result.Stdout, result.Stderr);
    }

    /// <summary>examples/ironclaw-agent.yaml with its define: block pointed at the world containers.</summary>
    public static string RenderExamplePolicy(string api, string resolver, string collector)
    {
        string text = File.ReadAllText(Path.Combine(TestImage.RepositoryRoot, "examples/ironclaw-agent.yaml"));
        string Set(string input, string key, string value)
        {
            var pattern = new Regex($"^(  {key}: ).*$", RegexOptions.Multiline);
            Assert.Matches(pattern, input);
            return pattern.Replace(input, "${1}" + value, 1);
        }
        text = Set(text, "ironclaw", api);
        text = Set(text, "resolvers", $"[{resolver}]");
        return Set(text, "collector", collector);
    }

    /// <summary>The outcome word (ALLOWED/DENIED) and detail probe printed for a flow.</summary>
    public static (string Verdict, string Detail) Outcome(Run probe, string flow)
    {
        var line = probe.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith(flow + " ", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"probe printed no line for {flow}:\n{probe}");
        var match = Regex.Match(line, @"^\S+\s+(ALLOWED|DENIED)\s+\(([^)]*)\)");
        Assert.True(match.Success, $"unexpected probe line: {line}");
        return (match.Groups[1].Value, match.Groups[2].Value);
    }

    /// <summary>The packets of the counter in chain egress_denied, from `netlinkfence show`.</summary>
    public static long EgressDeniedPackets(Run show)
    {
        var match = Regex.Match(show.Stdout, @"chain egress_denied \{[^}]*counter packets (\d+) bytes \d+ drop", RegexOptions.Singleline);
        Assert.True(match.Success, $"no egress_denied counter in:\n{show}");
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A listing with the counters' values blanked, to compare rulesets across applies.</summary>
    public static string WithoutCounterValues(string listing) =>
        Regex.Replace(listing, @"counter packets \d+ bytes \d+", "counter");

    public async Task DisposeAsync()
    {
        foreach (var container in containers)
            await container.DisposeAsync();
        if (network is null)
            return;
        await NetworkCleanup.DeleteWhenEmptyAsync(network);
    }
}

public sealed class PrivilegedAgent : Topology
{
    protected override bool Privileged => true;
}

public sealed class NetAdminAgent : Topology
{
    protected override bool Privileged => false;
}
