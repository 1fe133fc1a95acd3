namespace NetlinkFence.Tests.TestSupport;

/// <summary>Runs the netlinkfence CLI (built next to the tests) as a separate process.</summary>
public static class CliRunner
{
    public static string CliPath => Path.Combine(AppContext.BaseDirectory, "NetlinkFence.Cli.dll");

    public static (int ExitCode, string Stdout, string Stderr) Run(string arguments, string? workingDirectory = null) =>
        TestNamespace.TryRun("dotnet", $"{CliPath} {arguments}", workingDirectory: workingDirectory);

    /// <summary>Runs the CLI as user nobody with no capabilities, inside a fresh network namespace.</summary>
    public static (int ExitCode, string Stdout, string Stderr) RunUnprivileged(string arguments) =>
        TestNamespace.TryRun("unshare", $"-n setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "
            + $"env HOME=/tmp DOTNET_CLI_HOME=/tmp DOTNET_NOLOGO=1 dotnet {CliPath} {arguments}");
}
