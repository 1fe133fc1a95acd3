namespace NetlinkFence.Tests.TestSupport;

/// <summary>
/// Runs tests/NetlinkFence.TestProbe (built with the tests through a ProjectReference that does not reference its
/// assembly) as a separate process, so it can be given fewer privileges than the root test process.
/// </summary>
internal static class Probe
{
    /// <summary>The probe's dll, next to the test assembly's output in the probe project's bin folder.</summary>
    public static string DllPath
    {
        get
        {
            // .../tests/NetlinkFence.Tests/bin/<Configuration>/<tfm>/ -> .../tests/NetlinkFence.TestProbe/bin/<Configuration>/<tfm>/
            string output = AppContext.BaseDirectory.TrimEnd('/');
            string tfm = Path.GetFileName(output);
            string configuration = Path.GetFileName(Path.GetDirectoryName(output)!);
            string tests = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(output)!)!)!)!;
            string dll = Path.Combine(tests, "NetlinkFence.TestProbe", "bin", configuration, tfm, "NetlinkFence.TestProbe.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("the test probe was not built", dll);
        }
    }

    /// <summary>The dotnet host running this test process.</summary>
    public static string Dotnet => Environment.ProcessPath is { } p && Path.GetFileName(p) == "dotnet" ? p : "dotnet";

    /// <summary>Runs <c>PREFIX dotnet probe.dll ARGS</c> and returns its exit code and output.</summary>
    public static (int ExitCode, string Output) Run(string prefix, string arguments)
    {
        var (exit, stdout, stderr) = TestNamespace.TryRun(prefix.Split(' ')[0],
            $"{prefix[(prefix.IndexOf(' ') + 1)..]} env HOME=/tmp DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 {Dotnet} {DllPath} {arguments}");
        return (exit, stdout + stderr);
    }
}
