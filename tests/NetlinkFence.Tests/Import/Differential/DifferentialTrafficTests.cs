using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Import.Differential;

/// <summary>
/// The proof of `import iptables`: a ruleset loaded with Debian's iptables-nft-restore in one fresh agent/world pair,
/// the policy `import` makes of it applied with `apply --netns` in a second, and `nft -f` of that policy's `plan` in
/// a third; then every flow of <see cref="FlowMatrix"/> goes through all three, and each must get the same verdict.
/// When one does not, the failure prints the whole matrix (flow, verdict in each pair) and the imported policy.
/// One class per ruleset, so the rulesets run in parallel.
/// </summary>
public abstract class DifferentialTrafficTest
{
    /// <param name="partial">imports with <c>--partial</c>: lines the importer refuses become comments (the test's
    /// reason must be that the policy covers them by itself, as with neighbour discovery); the matrix then shows
    /// whether leaving them out changed a verdict.</param>
    protected static Task AssertSameVerdictsAsync(string rules, string? rules6 = null, bool partial = false, params (string Name, string Value)[] defines) =>
        CompareAsync(rules, rules6, null, partial, defines, SameVerdicts(rules6));

    /// <summary>
    /// The same, for a ruleset whose rules match ipsets: the reference loads <paramref name="ipsets"/> (an
    /// <c>ipset save</c> file) with <c>ipset restore</c> before the rules, and the import is given it with <c>--ipset</c>.
    /// </summary>
    protected static Task AssertSameVerdictsWithIpsetsAsync(string rules, string ipsets, string? rules6 = null) =>
        CompareAsync(rules, rules6, ipsets, partial: false, [], SameVerdicts(rules6));

    private static Action<VerdictMatrix, string> SameVerdicts(string? rules6) => (matrix, report) =>
    {
        Assert.True(matrix.Differing.Count == 0, $"{matrix.Differing.Count} flows judged differently:\n{report}");
        // Not vacuous: the ruleset allows some of the matrix and denies some of it.
        Assert.True(matrix.AllowedIn(0) > 0 && matrix.AllowedIn(0) < matrix.Flows.Count, report);
        // With an ip6tables file, IPv6 really passes somewhere (neighbour discovery works in both pairs), in
        // both directions: agreeing on "all IPv6 denied" would prove nothing about it.
        if (rules6 is not null)
        {
            foreach (var direction in Enum.GetValues<FlowDirection>())
                Assert.True(matrix.Flows.Any(f => f.IsV6 && f.Direction == direction && matrix.Outcome(0, f).Allowed), report);
        }
    };

    /// <summary>
    /// A ruleset the policy language cannot express, imported with <c>--partial</c>: the lines left out may make the
    /// policy allow less than iptables, never more (the import's promise: "--partial never allows more").
    /// </summary>
    protected static Task AssertPartialImportNeverAllowsMoreAsync(string rules, string? rules6 = null) =>
        CompareAsync(rules, rules6, null, partial: true, [], (matrix, report) =>
        {
            Assert.True(matrix.AllowedOnlyIn(1).Count == 0 && matrix.AllowedOnlyIn(2).Count == 0,
                $"the partial import allows flows iptables denies: {string.Join("; ", matrix.AllowedOnlyIn(1).Concat(matrix.AllowedOnlyIn(2)).Distinct())}\n{report}");
            // The lines left out matter (else the ruleset proves nothing about --partial): the policy allows less.
            Assert.True(matrix.Differing.Count > 0, "the partial import allows exactly what iptables allows:\n" + report);
        });

    /// <summary>
    /// A ruleset imported with <c>--partial</c> where what is left out is ICMP: every TCP and UDP flow, IPv4 and IPv6,
    /// must get iptables' verdict, and no flow may be allowed by the policy alone (ufw's rulesets).
    /// </summary>
    protected static Task AssertPartialImportExactForTcpAndUdpAsync(string rules, string rules6) =>
        CompareAsync(rules, rules6, null, partial: true, [], (matrix, report) =>
        {
            Assert.True(matrix.AllowedOnlyIn(1).Count == 0 && matrix.AllowedOnlyIn(2).Count == 0,
                $"the partial import allows flows iptables denies: {string.Join("; ", matrix.AllowedOnlyIn(1).Concat(matrix.AllowedOnlyIn(2)).Distinct())}\n{report}");
            var differing = matrix.Differing.Where(f => f.Protocol != FlowProtocol.IcmpEcho).ToList();
            Assert.True(differing.Count == 0, $"{differing.Count} TCP or UDP flows judged differently: {string.Join("; ", differing)}\n{report}");
            // Not vacuous: TCP and UDP of both families pass somewhere in both directions, and are denied somewhere.
            foreach (bool v6 in new[] { false, true })
            {
                foreach (var direction in Enum.GetValues<FlowDirection>())
                    Assert.True(matrix.Flows.Any(f => f.IsV6 == v6 && f.Direction == direction && f.Protocol != FlowProtocol.IcmpEcho && matrix.Outcome(0, f).Allowed), report);
                Assert.True(matrix.Flows.Any(f => f.IsV6 == v6 && f.Protocol == FlowProtocol.Udp && matrix.Outcome(0, f).Allowed), report);
            }
            Assert.True(matrix.AllowedIn(0) < matrix.Flows.Count, report);
        });

    private static Task CompareAsync(string rules, string? rules6, string? ipsets, bool partial, (string Name, string Value)[] defines, Action<VerdictMatrix, string> check)
    {
        var defined = defines.ToDictionary(d => d.Name, d => d.Value);
        string arguments = Rulesets.PathOf(rules) + (rules6 is null ? "" : $" --ip6 {Rulesets.PathOf(rules6)}")
            + (ipsets is null ? "" : $" --ipset {Rulesets.PathOf(ipsets)}")
            + (partial ? " --partial" : "") + string.Concat(defines.Select(d => $" --define {d.Name}={d.Value}"));
        return WithImportAsync(arguments, 3, async (imported, pairs) =>
        {
            var (reference, applied, planned) = (pairs[0], pairs[1], pairs[2]);
            if (ipsets is not null)
                reference.Agent.Exec("ipset", "restore", File.ReadAllText(Rulesets.PathOf(ipsets)));
            Rulesets.LoadWithIptables(reference.Agent, Rulesets.Expand(File.ReadAllText(Rulesets.PathOf(rules)), defined),
                Rulesets.Expand(File.ReadAllText(Rulesets.PathOf(rules6 ?? Rulesets.IPv6Denied)), defined));
            var apply = CliRunner.Run($"apply {imported.Path} --netns {applied.Agent.Name}");
            Assert.True(apply.ExitCode == 0, $"apply of the imported policy exited {apply.ExitCode}:\n{apply.Stderr}\n{imported.Text}");
            var plan = CliRunner.Run($"plan {imported.Path} --netns {planned.Agent.Name}");
            Assert.True(plan.ExitCode == 0, $"plan of the imported policy exited {plan.ExitCode}:\n{plan.Stderr}\n{imported.Text}");
            planned.Agent.Nft("-f -", plan.Stdout);

            var matrix = await VerdictMatrix.RunAsync(FlowMatrix.Flows,
                ("iptables-nft-restore", reference), ("import + apply", applied), ("import + plan + nft -f", planned));
            check(matrix, $"{rules}{(rules6 is null ? "" : " + " + rules6)}:\n{matrix.Render()}\n"
                + $"the imported policy:\n{imported.Text}\nimport's messages:\n{imported.Messages}");
        });
    }

    /// <summary>What <c>import iptables</c> made: the policy file, its text, and the messages it printed.</summary>
    internal sealed record ImportedPolicy(string Path, string Text, string Messages);

    /// <summary>
    /// Runs <c>import iptables ARGUMENTS --output FILE</c> into a scratch file (it must succeed), opens
    /// <paramref name="pairCount"/> fresh agent/world pairs and runs <paramref name="test"/> with both; then the pairs
    /// go, the file is removed, and the host's own ruleset must be as it was before.
    /// </summary>
    internal static async Task WithImportAsync(string arguments, int pairCount, Func<ImportedPolicy, AgentAndWorld[], Task> test)
    {
        string hostBefore = HostFirewall.Read();
        var work = Directory.CreateTempSubdirectory("nlf-import-diff-");
        try
        {
            string policy = Path.Combine(work.FullName, "policy.yaml");
            var import = CliRunner.Run($"import iptables {arguments} --output {policy}");
            Assert.True(import.ExitCode == 0 && File.Exists(policy), $"import iptables {arguments} exited {import.ExitCode}:\n{import.Stderr}{import.Stdout}");
            var pairs = await OpenPairsAsync(pairCount);
            try
            {
                await test(new ImportedPolicy(policy, File.ReadAllText(policy), import.Stderr), pairs);
            }
            finally
            {
                foreach (var pair in pairs)
                    pair.Dispose();
            }
            Assert.Equal(hostBefore, HostFirewall.Read());
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>Pairs made side by side (each is a few dozen `ip` calls and listener threads); all or none.</summary>
    internal static async Task<AgentAndWorld[]> OpenPairsAsync(int count)
    {
        var opening = Enumerable.Range(0, count).Select(_ => Task.Run(FlowMatrix.OpenPair)).ToArray();
        try
        {
            return await Task.WhenAll(opening);
        }
        catch
        {
            foreach (var task in opening.Where(t => t.IsCompletedSuccessfully))
                task.Result.Dispose();
            throw;
        }
    }
}

public sealed class SeedEgressFilterDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsAsync("seed-egress-filter.rules");
}

public sealed class SeedWithVariablesDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsAsync("seed-with-variables.rules", null, false,
        ("IRONCLAW_IP", "203.0.113.50"), ("REPO_IPS", "198.51.100.20,198.51.100.21"));
}

public sealed class InputManagementDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsAsync("input-management.rules");
}

public sealed class MultiportDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsAsync("multiport.rules");
}

public sealed class IprangeDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsAsync("iprange.rules");
}

public sealed class IpsetDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsWithIpsetsAsync("ipset.rules", "ipset.save");
}

public sealed class IpsetPortsDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsWithIpsetsAsync("ipset-ports.rules", "ipset-ports.save");
}

public sealed class IpsetListDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsWithIpsetsAsync("list-set.rules", "list-set.save", "list-set.v6.rules");
}

public sealed class UfwDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task PartialImportGivesUfwsVerdictsForTcpAndUdp() => AssertPartialImportExactForTcpAndUdpAsync("ufw.rules", "ufw.v6.rules");
}

public sealed class UfwLoggingDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task PartialImportGivesUfwsVerdictsForTcpAndUdp() => AssertPartialImportExactForTcpAndUdpAsync("ufw-logging.rules", "ufw-logging.v6.rules");
}

public sealed class UserChainsDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsAsync("user-chains.rules");
}

public sealed class IPv6DifferentialTests : DifferentialTrafficTest
{
    // Without --partial: the ruleset's neighbour discovery accepts (ICMPv6 types 135 and 136, -m hl), which any
    // ip6tables ruleset with OUTPUT DROP needs, are accounted as the policy's own (built-in) neighbour discovery.
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsAsync("ipv6.rules", "ipv6.v6.rules");
}

public sealed class RejectDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsAsync("reject.rules");
}

public sealed class CommentsDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsAsync("comments.rules");
}

public sealed class OrderAndStateDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsAsync("order-and-state.rules");
}

// The importer's own test rulesets that it imports without --partial, through the same matrix. Not dual-stack.v4/v6:
// its IPv6 half accepts no neighbour discovery, so under ip6tables the agent reaches no IPv6 neighbour at all, while
// the imported policy (with its own neighbour discovery rules) would allow its two IPv6 entries: the import refuses
// it without --partial (NeighbourDiscoveryImportTests; ipv6.v6.rules is the dual-stack case here).

public sealed class ImportTestsSeedEgressDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsAsync(Rulesets.OfImportTests("seed-egress.rules"), null, false,
        ("IRONCLAW_IP", "203.0.113.50"), ("REPO_IPS", "198.51.100.20,198.51.100.21"));
}

public sealed class ImportTestsManagementInputDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsAsync(Rulesets.OfImportTests("management-input.rules"));
}

public sealed class ImportTestsMultiportChainsDifferentialTests : DifferentialTrafficTest
{
    [Fact]
    public Task ImportedPolicyAllowsExactlyWhatIptablesAllows() => AssertSameVerdictsAsync(Rulesets.OfImportTests("multiport-chains.rules"));
}

public sealed class ImportTestsOrderDependentPartialDifferentialTests : DifferentialTrafficTest
{
    // A DROP that takes part of a later ACCEPT, a RETURN, an ICMP accept, a nat rule, FORWARD's policy ACCEPT.
    [Fact]
    public Task PartialImportNeverAllowsMoreThanIptables() => AssertPartialImportNeverAllowsMoreAsync(Rulesets.OfImportTests("order-dependent.rules"));
}
