using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Import.Differential;

/// <summary>
/// <c>-m owner --uid-owner</c> imported as <c>by:</c>, proven on the kernel: owner.rules loaded with iptables-nft-restore
/// in one agent/world pair and its import applied in another; then TCP connects from several users (setpriv) to each
/// destination must get the same verdict in both, and the verdicts the ruleset means (so agreeing on "all denied"
/// fails). <see cref="FlowMatrix"/>'s flows all run as root, so owners get their own flows here.
/// </summary>
public sealed class OwnerDifferentialTests
{
    private const uint Allowed = 61234, Nobody = 65534, Other = 61235;

    /// <summary>Who may reach which destination on tcp/443 under owner.rules (null: root).</summary>
    private static readonly (string Destination, uint? Uid, bool Allowed)[] Expected =
    [
        ("198.51.100.20", Allowed, true), ("198.51.100.20", Nobody, false), ("198.51.100.20", Other, false), ("198.51.100.20", null, false),
        ("198.51.100.21", Allowed, false), ("198.51.100.21", Nobody, true), ("198.51.100.21", Other, false), ("198.51.100.21", null, false),
        ("203.0.113.50", Allowed, true), ("203.0.113.50", Nobody, true), ("203.0.113.50", Other, true), ("203.0.113.50", null, true),
        ("192.168.1.20", Allowed, false), ("192.168.1.20", Other, false), ("192.168.1.20", null, false),
    ];

    [Fact]
    public Task EachUserReachesWhatIptablesLetItReachAfterImportAndApply() =>
        DifferentialTrafficTest.WithImportAsync(Rulesets.PathOf("owner.rules"), 2, async (imported, pairs) =>
        {
            Assert.Contains($"by: {{ uid: {Allowed} }}", imported.Text);
            Assert.Contains("by: { user: nobody }", imported.Text);
            var (reference, applied) = (pairs[0], pairs[1]);
            Rulesets.LoadWithIptables(reference.Agent, File.ReadAllText(Rulesets.PathOf("owner.rules")), File.ReadAllText(Rulesets.PathOf(Rulesets.IPv6Denied)));
            var apply = CliRunner.Run($"apply {imported.Path} --netns {applied.Agent.Name}");
            Assert.True(apply.ExitCode == 0, $"apply of the imported policy exited {apply.ExitCode}:\n{apply.Stderr}\n{imported.Text}");

            using var clients = new TestCgroup();
            // Side by side, each on a thread of its own (a denied connect waits out its timeout; on pool threads the
            // blocked waits starved the pool and allowed connects came back as denied).
            var runs = Expected.SelectMany(e => new[] { reference, applied }.Select(pair => (e, pair,
                Reached: Task.Factory.StartNew(() => clients.TcpReachable(pair.Agent, null, e.Uid, e.Destination, 443, timeoutSeconds: 6),
                    CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)))).ToList();
            await Task.WhenAll(runs.Select(r => r.Reached));
            // A connect that should pass but timed out on a loaded machine is tried again, alone, with more time (as
            // the flow matrix does); a firewall's drop never turns into a pass by retrying.
            var wrong = runs.Where(r => r.Reached.Result != r.e.Allowed
                    && clients.TcpReachable(r.pair.Agent, null, r.e.Uid, r.e.Destination, 443, timeoutSeconds: 12) != r.e.Allowed)
                .Select(r => $"uid {r.e.Uid?.ToString() ?? "0"} -> {r.e.Destination}:443 {(r.e.Allowed ? "denied" : "allowed")} under "
                    + (r.pair == reference ? "iptables-nft-restore" : "import + apply")).ToList();
            Assert.True(wrong.Count == 0, string.Join("\n", wrong) + $"\nthe imported policy:\n{imported.Text}");
        });
}
