using System.Diagnostics;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>
/// A fresh network namespace (<c>ip netns add</c>) for one test: a private, empty ruleset, so kernel tests
/// never touch the host's and can run in parallel. Deleted on dispose.
/// </summary>
public sealed class TestNamespace : IDisposable
{
    private static int _counter;

    private TestNamespace(string name) => Name = name;

    /// <summary>The namespace name, usable as NftablesConnectionOptions.NetworkNamespace.</summary>
    public string Name { get; }

    /// <summary>Path of the namespace file.</summary>
    public string Path => "/run/netns/" + Name;

    /// <summary>Creates a namespace; <paramref name="suffix"/> (e.g. <c>.x</c>) is appended to the unique name.</summary>
    public static TestNamespace Create(string suffix = "")
    {
        string name = $"nlf{Environment.ProcessId}-{Interlocked.Increment(ref _counter)}{suffix}";
        Run("ip", $"netns add {name}");
        var ns = new TestNamespace(name);
        ns.Exec("ip", "link set lo up");
        return ns;
    }

    /// <summary>Runs a command inside the namespace (<c>ip netns exec</c>) and returns its stdout; throws on failure.</summary>
    public string Exec(string program, string arguments, string? stdin = null) =>
        Run("ip", $"netns exec {Name} {program} {arguments}", stdin);

    /// <summary>Runs <c>nft</c> inside the namespace: the independent oracle.</summary>
    public string Nft(string arguments, string? stdin = null) => Exec("nft", arguments, stdin);

    public static string Run(string program, string arguments, string? stdin = null)
    {
        var result = TryRun(program, arguments, stdin);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"`{program} {arguments}` exited {result.ExitCode}: {result.Stderr}{result.Stdout}");
        return result.Stdout;
    }

    public static (int ExitCode, string Stdout, string Stderr) TryRun(string program, string arguments, string? stdin = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = workingDirectory ?? "",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose() => TryRun("ip", $"netns del {Name}");
}
