using System.Diagnostics;
using System.Text;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Faults;

/// <summary>Policies for the fault tests: the same shape with different contents, so any mixture is visible.</summary>
internal static class FaultPolicies
{
    /// <summary>A policy with <paramref name="destinations"/> addresses in one entry (10.v.x.y), port <c>443+v</c>, distinct per <paramref name="variant"/>.</summary>
    public static string Yaml(int variant, int destinations)
    {
        var text = new StringBuilder($"""
            version: 1
            log:
              prefix: "DENIED-{variant}: "
            egress:
              dns:
                resolvers: [192.168.{variant}.10]
              allow:
                - name: variant-{variant}
                  tcp: [{443 + variant}]
                  to:

            """);
        for (int i = 0; i < destinations; i++)
            text.Append($"        - {10 + (i >> 16)}.{variant}.{i >> 8 & 255}.{i & 255}\n");
        text.Append($"    - name: marker-{variant}\n      to: [198.18.0.{variant}]\n      udp: [{1000 + variant}]\n");
        return text.ToString();
    }

    public static CompiledPolicy Compile(string yaml, string name = "fault.yaml") =>
        PolicyCompiler.Compile(ResolvedPolicy.ResolveAsync(PolicyLoader.Load(yaml, name), new FixedResolver()).GetAwaiter().GetResult());

    /// <summary>Which of <paramref name="candidates"/> the live table equals exactly; fails on none or several (a mixture).</summary>
    public static int WhichOne(NetlinkFence.Nftables.TableContents? live, params CompiledPolicy[] candidates)
    {
        var matching = candidates.Select((c, i) => (i, diff: TableDiff.Compare(c.ToExpectedContents(), live))).Where(x => x.diff.Count == 0).ToList();
        Assert.True(matching.Count == 1,
            $"the live table (generation {live?.Generation}: {live?.Chains.Count} chains, {live?.Sets.Count} sets, {live?.Rules.Count} rules) matches {matching.Count} of {candidates.Length} policies; differences from each: "
            + string.Join(" | ", candidates.Select(c => string.Join("; ", TableDiff.Compare(c.ToExpectedContents(), live).Take(3)))));
        return matching[0].i;
    }

    /// <summary>Writes a root-owned, 0600 policy file (so apply draws no ownership warning).</summary>
    public static string WriteFile(string directory, string name, string yaml)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllText(path, yaml);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    /// <summary>Starts the CLI as a separate process (not waited for).</summary>
    public static Process StartCli(string arguments)
    {
        var start = new ProcessStartInfo(Probe.Dotnet, $"{CliRunner.CliPath} {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        return Process.Start(start)!;
    }
}
