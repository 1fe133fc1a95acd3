using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// Runs a self-test from inside the namespace, one probe at a time (every probe carries the same socket mark, so a
/// rise of egress_denied's counter of marked packets between the readings around a probe is that probe's), and
/// prints one line per probe with its evidence.
/// </summary>
internal static class SelfTestRunner
{
    public const int TimeoutMilliseconds = 1500;

    /// <summary>
    /// True when every expected-allowed flow got through and every expected-denied flow was dropped by the policy's
    /// egress_denied chain. An inconclusive probe fails it unless <paramref name="inconclusivePasses"/>; a probe that
    /// could not run always fails it. Never throws, except when <paramref name="cancellationToken"/> is cancelled.
    /// <paramref name="connection"/> is a connection to the namespace the flows are tried in, to read the counter of
    /// <paramref name="table"/>.
    /// </summary>
    public static async Task<bool> RunAsync(NftablesConnection connection, string table, string? netns, SelfTest test, bool inconclusivePasses,
        TextWriter output, CancellationToken cancellationToken)
    {
        string? path = FlowProbe.NamespacePath(netns);
        var counter = new DeniedCounter(connection, table);
        var before = await counter.ReadAsync(cancellationToken);
        bool ok = true;
        foreach (var (flow, expected) in test.Allow.Select(f => (f, Verdict.Allowed)).Concat(test.Deny.Select(f => (f, Verdict.Denied))))
        {
            var result = await FlowProbe.TryAsync(path, flow, TimeoutMilliseconds, cancellationToken);
            var after = await counter.ReadAsync(cancellationToken);
            var (denied, problem) = DeniedCounter.Between(before, after);
            before = after;
            var (got, evidence) = ProbeJudge.Judge(result, denied, problem, anyLocalFirewall: false);
            string mark = got == expected ? "ok" : got == Verdict.Inconclusive && inconclusivePasses ? "inconclusive, accepted" : "FAILED";
            ok &= mark != "FAILED";
            output.WriteLine($"selftest: {flow,-28} expected {ProbeJudge.Word(expected),-8} got {ProbeJudge.Word(got),-12} ({evidence}) {mark}");
        }
        return ok;
    }
}
