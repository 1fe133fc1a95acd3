using System.Diagnostics;
using System.Reflection;
using NetlinkFence.Policy;
using NetlinkFence.Tests.Kernel;

namespace NetlinkFence.Tests.Packaging;

/// <summary>
/// <c>dotnet pack</c> of the solution, once for all the packaging tests: the packages (NetlinkFence,
/// NetlinkFence.Interop, the NetlinkFence.Cli tool) are made from the build the tests run on (<c>--no-build</c>,
/// same configuration) into <c>artifacts/packages</c>, the folder <c>samples/nuget.config</c> reads. Everything
/// else a test makes (a fresh NuGet cache, the sample's build, the installed tool) lives in a temporary
/// directory deleted afterwards.
/// </summary>
public sealed class PackedPackages : IDisposable
{
    public PackedPackages()
    {
        Root = ApplyPolicyTests.RepositoryRoot();
        PackageFolder = Path.Combine(Root, "artifacts", "packages");
        Work = Directory.CreateTempSubdirectory("nlf-packaging-").FullName;
        var pack = Dotnet($"pack NetlinkFence.sln -c {Configuration} --no-build -nologo", Root);
        PackOutput = pack.Stdout + pack.Stderr;
        if (pack.ExitCode != 0)
            throw new InvalidOperationException($"dotnet pack exited {pack.ExitCode}:\n{PackOutput}");
    }

    /// <summary>The repository root.</summary>
    public string Root { get; }

    /// <summary>Where <c>dotnet pack</c> writes (PackageOutputPath) and the sample restores from.</summary>
    public string PackageFolder { get; }

    /// <summary>A private temporary directory, deleted on dispose.</summary>
    public string Work { get; }

    /// <summary>What <c>dotnet pack</c> printed.</summary>
    public string PackOutput { get; }

    /// <summary>The version the packages carry: the one <c>&lt;Version&gt;</c> of Directory.Build.props, as built.</summary>
    public static string Version { get; } =
        typeof(PolicyBuilder).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    /// <summary>The configuration these tests were built in (the packages are packed from the same build).</summary>
    public static string Configuration { get; } =
        typeof(PackedPackages).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;

    /// <summary>The dotnet installation running the tests (for DOTNET_ROOT: a tool's launcher finds the runtime there).</summary>
    public static string DotnetRoot { get; } =
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));

    public string PackagePath(string id) => Path.Combine(PackageFolder, $"{id}.{Version}.nupkg");

    /// <summary>Runs <c>dotnet</c> with <paramref name="environment"/> added; stdout and stderr are collected.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Dotnet(string arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null) =>
        Run("dotnet", arguments, workingDirectory, environment);

    public static (int ExitCode, string Stdout, string Stderr) Run(string program, string arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose()
    {
        try { Directory.Delete(Work, recursive: true); }
        catch (IOException) { }
    }
}
