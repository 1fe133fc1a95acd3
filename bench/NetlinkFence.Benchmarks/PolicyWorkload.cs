using System.Text;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// Policy files for the policy cases, compiled the way the CLI compiles them (load, resolve, compile), and their
/// <c>nft -f</c> equivalent, which is exactly what <c>netlinkfence plan POLICY</c> prints. The CLI to run is
/// taken from <c>NLF_CLI</c> (an executable, or a <c>.dll</c> run with <c>dotnet</c>); bench/run.sh sets it.
/// </summary>
internal static class PolicyWorkload
{
    /// <summary>N egress entries, each with one destination (198.18.0.0 + i) and tcp 443.</summary>
    public static string Entries(int entries)
    {
        var text = new StringBuilder("version: 1\ntable: netlinkfence\negress:\n  allow:\n");
        for (int i = 0; i < entries; i++)
            text.Append("    - { name: e").Append(i).Append(", to: [").Append(Workload.AddressText(i)).Append("], tcp: [443] }\n");
        return Write($"entries-{entries}", text.ToString());
    }

    /// <summary>One egress entry with N destinations (198.18.0.0 + i) and tcp 443.</summary>
    public static string Destinations(int destinations)
    {
        var text = new StringBuilder("version: 1\ntable: netlinkfence\negress:\n  allow:\n    - name: many\n      tcp: [443]\n      to:\n");
        for (int i = 0; i < destinations; i++)
            text.Append("        - ").Append(Workload.AddressText(i)).Append('\n');
        return Write($"destinations-{destinations}", text.ToString());
    }

    private static string Write(string name, string yaml)
    {
        string path = Path.Combine(Directory, name + ".yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    public static string Directory { get; } = CreateDirectory();

    /// <summary>This process's own directory in /tmp, removed when it exits (each run used to leave one behind).</summary>
    private static string CreateDirectory()
    {
        string path = System.IO.Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"nlfbench-policies-{Environment.ProcessId}")).FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                System.IO.Directory.Delete(path, recursive: true);
            }
            catch (IOException)
            {
                // Still in use by a child that outlived us: nothing worth failing the bench for.
            }
        };
        return path;
    }

    /// <summary>Load + resolve + compile, as the CLI's apply does before it talks to the kernel.</summary>
    public static CompiledPolicy Compile(string path) =>
        PolicyCompiler.Compile(ResolvedPolicy.ResolveAsync(PolicyLoader.LoadFile(path)).GetAwaiter().GetResult());

    public static Transaction Transaction(string path) => Compile(path).ToReplaceTransaction();

    /// <summary>Runs <c>netlinkfence plan POLICY</c> and writes what it prints next to the policy (<c>.nft</c>).</summary>
    public static string PlanFile(string policyPath)
    {
        var (program, prefix) = Cli();
        // --netns of a throwaway namespace: plan compares with the live table there (empty), never the host's.
        using var ns = BenchNamespace.Create();
        string text = BenchNamespace.Run(program, [.. prefix, "plan", policyPath, "--netns", ns.Name], captureOutput: true);
        // In the temp directory, never next to the policy (examples/ is part of the repository).
        string file = Path.Combine(Directory, $"plan-{Path.GetFileNameWithoutExtension(policyPath)}.nft");
        File.WriteAllText(file, text);
        return file;
    }

    /// <summary>The CLI: NLF_CLI as an executable, or <c>dotnet X.dll</c>.</summary>
    public static (string Program, string[] Prefix) Cli()
    {
        string cli = Environment.GetEnvironmentVariable("NLF_CLI")
            ?? throw new InvalidOperationException("set NLF_CLI to the netlinkfence executable or NetlinkFence.Cli.dll (bench/run.sh does)");
        return cli.EndsWith(".dll", StringComparison.Ordinal) ? ("dotnet", [cli]) : (cli, []);
    }

    public static string Example(string repositoryRoot) => Path.Combine(repositoryRoot, "examples", "ironclaw-agent.yaml");

    public static string CliDescription(string program, string[] prefix) => string.Join(' ', [program, .. prefix]);

    public static void Cleanup()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }

}
