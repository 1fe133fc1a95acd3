using System.Text.Json;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Live;

/// <summary>
/// <c>status</c> says what keeps the table as it is, and <c>stats --prometheus</c> whether it is owned: a table applied
/// without the daemon is an ordinary table that <c>nft flush ruleset</c> (Debian's nftables.service) deletes. The
/// daemon's side is in <c>DaemonTests</c>.
/// </summary>
public sealed class TableHolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nlf-holder-").FullName;
    private readonly string _policy;

    public TableHolderTests()
    {
        _policy = Path.Combine(_dir, "policy.yaml");
        File.WriteAllText(_policy, LivePolicyTests.Yaml);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int ExitCode, string Stdout, string Stderr) Cli(string verb, TestNamespace ns) =>
        CliRunner.Run($"{verb} --policy {_policy} --netns {ns.Name}");

    [Fact]
    public void A_table_no_daemon_holds_is_reported_as_one_that_flush_ruleset_deletes_and_it_does()
    {
        using var ns = TestNamespace.Create();
        Assert.Equal(0, CliRunner.Run($"apply {_policy} --netns {ns.Name}").ExitCode);

        var status = Cli("status", ns);
        Assert.True(status.ExitCode == 0, status.Stderr);
        Assert.StartsWith("table inet netlinkfence: no daemon holds it: any root process can change or delete it, and 'nft flush ruleset' deletes it "
            + "(Debian's nftables.service runs one at each start and reload), leaving the host unfiltered; 'netlinkfence run' owns it\n", status.Stdout);
        Assert.Contains("updates: closed", status.Stdout);
        using (var json = JsonDocument.Parse(Cli("status --output json", ns).Stdout))
        {
            Assert.False(json.RootElement.GetProperty("owned").GetBoolean());
            Assert.False(json.RootElement.TryGetProperty("owner_port", out _));
            Assert.False(json.RootElement.TryGetProperty("daemon", out _));
        }
        var samples = PrometheusParser.Parse(Prometheus(ns));
        Assert.Equal(0, samples.Value("netlinkfence_table_owned", ("table", "netlinkfence")));

        // What the line says, as the kernel does it: Debian's /etc/nftables.conf starts with this.
        ns.Nft("flush ruleset");
        Assert.Equal("", ns.Nft("list tables").Trim());
    }

    [Fact]
    public async Task A_table_an_embedding_agent_owns_names_its_port_and_survives_flush_ruleset()
    {
        using var ns = TestNamespace.Create();
        var resolved = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(LivePolicyTests.Yaml, "live.yaml"), new FixedResolver());
        await using var agent = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await PolicyApplier.ApplyAsync(agent, PolicyCompiler.Compile(resolved).WithTableFlags(Table.OwnerFlag | Table.PersistFlag));

        var status = Cli("status", ns);
        Assert.True(status.ExitCode == 0, status.Stderr);
        Assert.StartsWith($"table inet netlinkfence: owned by netlink port {agent.PortId}, which is not a 'netlinkfence run' daemon of this state directory "
            + "(an agent embedding the library?): only that socket can change it\n", status.Stdout);
        using (var json = JsonDocument.Parse(Cli("status --output json", ns).Stdout))
        {
            Assert.True(json.RootElement.GetProperty("owned").GetBoolean());
            Assert.Equal(agent.PortId, json.RootElement.GetProperty("owner_port").GetUInt32());
            Assert.False(json.RootElement.TryGetProperty("daemon", out _));
        }
        var samples = PrometheusParser.Parse(Prometheus(ns));
        Assert.Equal(1, samples.Value("netlinkfence_table_owned", ("table", "netlinkfence")));

        string before = ns.Nft("list table inet netlinkfence");
        ns.Nft("flush ruleset");
        Assert.Equal(before, ns.Nft("list table inet netlinkfence"));
    }

    private string Prometheus(TestNamespace ns)
    {
        string file = Path.Combine(_dir, $"{ns.Name}.prom");
        var run = Cli($"stats --prometheus {file}", ns);
        Assert.True(run.ExitCode == 0, run.Stderr);
        return file;
    }
}
