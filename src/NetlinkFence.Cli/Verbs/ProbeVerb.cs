using System.CommandLine;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence probe [--policy FILE] ADDRESS:PORT udp:ADDRESS:PORT ...</c> (flows written as in <c>selftest:</c>): tries each flow from inside the
/// namespace, one at a time (with a policy, a name it uses stands for each of its addresses), and reports whether it got through; with a policy, also which entry decided.
/// DENIED needs evidence: the live table's egress_denied counter rose during the probe, or the kernel said EPERM
/// (some local firewall). The trying is <see cref="FlowProbe"/> and the judging <see cref="ProbeJudge"/>, both
/// shared with apply's self-test.
/// </summary>
internal static class ProbeVerb
{
    public static Command Create()
    {
        var targets = new Argument<string[]>("flows") { Description = "flows to try, written as in selftest: ADDRESS:PORT (tcp), tcp:ADDRESS:PORT or udp:ADDRESS:PORT ([v6] in brackets); with --policy, a name of the policy for each of its addresses", Arity = ArgumentArity.OneOrMore };
        var policy = new Option<string?>("--policy") { Description = "explain each result with this policy's entries" };
        var timeout = new Option<int>("--timeout-ms") { Description = "how long to wait for an answer", DefaultValueFactory = _ => 1000 };
        var command = new Command("probe", "try flows from inside the namespace and report allowed or denied, and why") { targets, policy, timeout, CommonOptions.Table };
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            string? policyPath = parse.GetValue(policy);
            var compiled = policyPath is { } path ? await PolicyFiles.CompileAsync(path, checkOwnership: false, cancellationToken, parse.GetValue(CommonOptions.NetworkNamespace)) : null;
            var flows = parse.GetValue(targets)!.SelectMany(Expand).ToList();
            string? netns = parse.GetValue(CommonOptions.NetworkNamespace);
            await using var nft = await TryOpenAsync(netns, cancellationToken);
            var counter = new DeniedCounter(nft, compiled?.Table.Name ?? parse.GetValue(CommonOptions.Table)!);
            string? nsPath = FlowProbe.NamespacePath(netns);
            var before = await counter.ReadAsync(cancellationToken);
            foreach (var (target, flow) in flows)
            {
                var result = await FlowProbe.TryAsync(nsPath, flow, parse.GetValue(timeout), cancellationToken);
                var after = await counter.ReadAsync(cancellationToken);
                var (denied, problem) = DeniedCounter.Between(before, after);
                before = after;
                var (verdict, evidence) = ProbeJudge.Judge(result, denied, problem, anyLocalFirewall: true);
                string why = compiled is null ? "" : " -- policy: " + SuggestedCommand.ReasonWithOpen(FlowExplainer.Explain(compiled, flow.Protocol, flow.Address, flow.Port), policyPath!, netns);
                Console.WriteLine($"{target,-28} {ProbeJudge.Word(verdict),-8} ({evidence}){why}");
            }
            return ExitCodes.Ok;

            // With a policy, a name it uses stands for each of its addresses: the flows the agent's own lookups lead to.
            IEnumerable<(string Label, ExpectedFlow Flow)> Expand(string target) => compiled is null || ExpectedFlow.TryParse(target, out _)
                ? [(target, ExpectedFlow.Parse(target))]
                : ExpectedFlow.Parse(target, compiled.Source).Select(flow => ($"{target} ({flow.Address})", flow));
        }));
        return command;
    }

    /// <summary>A connection for reading the counter; none (so no counter evidence) when nftables cannot be opened.</summary>
    private static async Task<NftablesConnection?> TryOpenAsync(string? netns, CancellationToken cancellationToken)
    {
        try
        {
            return await NftablesConnection.OpenAsync(new() { NetworkNamespace = netns }, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return null;
        }
    }
}
