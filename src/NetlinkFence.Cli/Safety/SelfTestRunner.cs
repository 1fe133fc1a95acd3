using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>Runs a self-test: every flow at once from inside the namespace; prints one line per probe.</summary>
internal static class SelfTestRunner
{
    public const int TimeoutMilliseconds = 1500;

    /// <summary>True when every expected-allowed flow got through and every expected-denied flow was dropped.</summary>
    public static async Task<bool> RunAsync(string? netns, SelfTest test, TextWriter output, CancellationToken cancellationToken)
    {
        string? path = FlowProbe.NamespacePath(netns);
        var probes = test.Allow.Select(f => (Expect: true, Task: FlowProbe.TryAsync(path, f, TimeoutMilliseconds, cancellationToken)))
            .Concat(test.Deny.Select(f => (Expect: false, Task: FlowProbe.TryAsync(path, f, TimeoutMilliseconds, cancellationToken))))
            .ToList();
        await Task.WhenAll(probes.Select(p => p.Task));
        bool ok = true;
        foreach (var (expect, task) in probes)
        {
            var result = task.Result;
            bool good = result.Passed == expect;
            ok &= good;
            output.WriteLine($"selftest: {result.Flow,-28} expected {(expect ? "ALLOWED" : "DENIED "),-8} got {(result.Passed ? "ALLOWED" : "DENIED "),-8} ({result.Outcome}) {(good ? "ok" : "FAILED")}");
        }
        return ok;
    }
}
