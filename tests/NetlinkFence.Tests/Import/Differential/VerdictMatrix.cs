using System.Text;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Import.Differential;

/// <summary>
/// The same flows through several pairs at once, the first pair being the reference. A flow judged differently is
/// tried again (in every pair, with a longer deadline) before it counts as a difference, so a reply slowed by a
/// loaded machine is not mistaken for a firewall's verdict; a firewall's verdict does not change on a second try.
/// </summary>
public sealed class VerdictMatrix
{
    private static readonly TimeSpan FirstDeadline = TimeSpan.FromSeconds(4), RetryDeadline = TimeSpan.FromSeconds(12);
    private const int Retries = 2;

    private readonly string[] _pairNames;
    private readonly FlowOutcome[][] _outcomes;

    private VerdictMatrix(IReadOnlyList<Flow> flows, string[] pairNames, FlowOutcome[][] outcomes)
    {
        Flows = flows;
        _pairNames = pairNames;
        _outcomes = outcomes;
    }

    public IReadOnlyList<Flow> Flows { get; }

    /// <summary>Flows whose verdict (allowed or not) is not the same in every pair.</summary>
    public IReadOnlyList<Flow> Differing => Enumerable.Range(0, Flows.Count).Where(Differs).Select(i => Flows[i]).ToList();

    /// <summary>Flows the pair at <paramref name="pair"/> allowed and the reference (pair 0) denied.</summary>
    public IReadOnlyList<Flow> AllowedOnlyIn(int pair) =>
        Enumerable.Range(0, Flows.Count).Where(i => _outcomes[pair][i].Allowed && !_outcomes[0][i].Allowed).Select(i => Flows[i]).ToList();

    /// <summary>How many flows the pair at <paramref name="pair"/> (0: the reference) allowed.</summary>
    public int AllowedIn(int pair) => _outcomes[pair].Count(o => o.Allowed);

    public FlowOutcome Outcome(int pair, Flow flow) => _outcomes[pair][IndexOf(flow)];

    public static async Task<VerdictMatrix> RunAsync(IReadOnlyList<Flow> flows, params (string Name, AgentAndWorld Net)[] pairs)
    {
        var outcomes = await Task.WhenAll(pairs.Select(p => FlowRunner.RunAsync(p.Net, flows, FirstDeadline)));
        var matrix = new VerdictMatrix(flows, pairs.Select(p => p.Name).ToArray(), outcomes);
        for (int retry = 0; retry < Retries; retry++)
        {
            var differing = Enumerable.Range(0, flows.Count).Where(matrix.Differs).ToList();
            if (differing.Count == 0)
                break;
            var subset = differing.Select(i => flows[i]).ToList();
            var again = await Task.WhenAll(pairs.Select(p => FlowRunner.RunAsync(p.Net, subset, RetryDeadline)));
            for (int pair = 0; pair < pairs.Length; pair++)
            {
                for (int k = 0; k < differing.Count; k++)
                    outcomes[pair][differing[k]] = again[pair][k];
            }
        }
        return matrix;
    }

    /// <summary>Every flow with its verdict in every pair; a flow judged differently is marked <c>&lt;&lt;&lt; DIFFERS</c>.</summary>
    public string Render()
    {
        const string Separator = " | ";
        int flowWidth = Flows.Max(f => f.ToString().Length);
        var widths = _pairNames.Select((name, pair) => Math.Max(name.Length, _outcomes[pair].Max(o => o.Verdict.Length))).ToArray();
        var text = new StringBuilder();
        text.Append("flow".PadRight(flowWidth));
        for (int pair = 0; pair < _pairNames.Length; pair++)
            text.Append(Separator).Append(_pairNames[pair].PadRight(widths[pair]));
        text.AppendLine();
        for (int i = 0; i < Flows.Count; i++)
        {
            text.Append(Flows[i].ToString().PadRight(flowWidth));
            for (int pair = 0; pair < _pairNames.Length; pair++)
                text.Append(Separator).Append(_outcomes[pair][i].Verdict.PadRight(widths[pair]));
            text.AppendLine(Differs(i) ? "  <<< DIFFERS" : "");
        }
        var differing = Differing;
        text.AppendLine($"{Flows.Count} flows, {differing.Count} judged differently; allowed: "
            + string.Join(", ", _pairNames.Select((name, pair) => $"{name} {AllowedIn(pair)}")));
        return text.ToString();
    }

    private bool Differs(int flow) => _outcomes.Any(o => o[flow].Allowed != _outcomes[0][flow].Allowed);

    private int IndexOf(Flow flow)
    {
        for (int i = 0; i < Flows.Count; i++)
        {
            if (Flows[i] == flow)
                return i;
        }
        throw new ArgumentException($"{flow} is not in the matrix", nameof(flow));
    }
}
