using System.Diagnostics;

namespace NetlinkFence.Benchmarks;

/// <summary>A fresh network namespace (<c>ip netns add</c>): a private, empty ruleset, deleted on dispose.</summary>
internal sealed class BenchNamespace : IDisposable
{
    private static int _counter;

    private BenchNamespace(string name) => Name = name;

    public string Name { get; }

    public static BenchNamespace Create()
    {
        string name = $"nlfbench{Environment.ProcessId}-{Interlocked.Increment(ref _counter)}";
        Run("ip", "netns", "add", name);
        return new BenchNamespace(name);
    }

    /// <summary>Runs <c>ip netns exec NAME nft ARGS</c>; throws unless it exits 0.</summary>
    public void Nft(params string[] arguments) => Run("ip", ["netns", "exec", Name, "nft", .. arguments], captureOutput: false);

    /// <summary>As <see cref="Nft"/>, killed (<see cref="TimeoutException"/>) after <paramref name="timeout"/>.</summary>
    public void Nft(TimeSpan timeout, params string[] arguments) => Run("ip", ["netns", "exec", Name, "nft", .. arguments], captureOutput: false, timeout);

    public string NftOutput(params string[] arguments) => Run("ip", ["netns", "exec", Name, "nft", .. arguments], captureOutput: true);

    public static void Run(string program, params string[] arguments) => Run(program, arguments, captureOutput: false);

    public static string Run(string program, string[] arguments, bool captureOutput, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program, arguments) { UseShellExecute = false, RedirectStandardOutput = captureOutput };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = captureOutput ? process.StandardOutput.ReadToEndAsync() : Task.FromResult("");
        if (timeout is { } limit && !process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"`{program} {string.Join(' ', arguments)}` did not finish within {limit.TotalSeconds} s");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"`{program} {string.Join(' ', arguments)}` exited {process.ExitCode}");
        return output.GetAwaiter().GetResult();
    }

    public void Dispose() => Run("ip", "netns", "del", Name);
}
