using System.IO.Compression;
using System.Reflection;
using System.Reflection.Metadata;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Packaging;

/// <summary>
/// The packages as an embedder and a .NET user get them, so a broken package fails here: the sample agent restores
/// NetlinkFence from the packed folder into an empty NuGet cache, builds, and runs against the kernel in a fresh
/// network namespace; the CLI installs as a .NET tool and runs; the package metadata is what NuGet needs.
/// </summary>
public sealed class PackageTests(PackedPackages packages) : IClassFixture<PackedPackages>
{
    private const string SampleTable = "embedded_agent";

    [Fact]
    public void EmbeddedAgentSampleRestoresThePackedPackageAndWhatItPrintsIsWhatTheKernelHolds()
    {
        // An empty cache: NetlinkFence can only come from the folder just packed (samples/nuget.config), never
        // from a cache of an earlier pack of the same version.
        string cache = Path.Combine(packages.Work, "sample-nuget-cache");
        string build = Path.Combine(packages.Work, "sample-build");
        var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = cache };
        var built = PackedPackages.Dotnet(
            $"build samples/EmbeddedAgent/EmbeddedAgent.csproj -c Release --artifacts-path {build} -nologo", packages.Root, environment);
        Assert.True(built.ExitCode == 0, $"the sample does not build from the packages:\n{built.Stdout}{built.Stderr}");
        string metadata = File.ReadAllText(Path.Combine(cache, "netlinkfence", PackedPackages.Version, ".nupkg.metadata"));
        Assert.Equal(packages.PackageFolder, JsonDocument.Parse(metadata).RootElement.GetProperty("source").GetString()!.TrimEnd('/'));

        using var ns = TestNamespace.Create();
        var run = PackedPackages.Run("dotnet", $"{Path.Combine(build, "bin", "EmbeddedAgent", "release", "EmbeddedAgent.dll")} {ns.Name}", packages.Root);
        Assert.True(run.ExitCode == 0, $"the sample exited {run.ExitCode}:\n{run.Stdout}{run.Stderr}");

        string[] parts = run.Stdout.Split("# after ");
        Assert.True(parts.Length == 3, "expected an apply line and two tables:\n" + run.Stdout);
        Assert.StartsWith("applied: ", parts[0], StringComparison.Ordinal);
        string afterAdd = parts[1], afterRemove = parts[2];
        Assert.StartsWith("adding 198.51.100.7/32 to ironclaw-control\n", afterAdd, StringComparison.Ordinal);
        Assert.Contains("198.51.100.7 . tcp . 443 counter packets 0 bytes 0 comment \"ironclaw-control\"", afterAdd);
        Assert.StartsWith("removing 198.51.100.7/32 from ironclaw-control\n", afterRemove, StringComparison.Ordinal);
        string lastTable = afterRemove[(afterRemove.IndexOf('\n') + 1)..];
        Assert.DoesNotContain("198.51.100.7", lastTable);

        // nft as the oracle: the last table printed is the kernel's, character for character...
        Assert.Equal(ns.Nft($"list table inet {SampleTable}"), lastTable);

        // ...and the ruleset holds that one table: default-drop output, the builder's destinations in allow_v4,
        // the one added at run time gone again.
        using var ruleset = JsonDocument.Parse(ns.Nft("-j list ruleset"));
        var objects = ruleset.RootElement.GetProperty("nftables").EnumerateArray().ToList();
        var tables = objects.Where(o => o.TryGetProperty("table", out _)).Select(o => o.GetProperty("table")).ToList();
        Assert.Equal([$"inet {SampleTable}"], tables.Select(t => $"{t.GetProperty("family").GetString()} {t.GetProperty("name").GetString()}"));
        var output = objects.Where(o => o.TryGetProperty("chain", out var c) && c.GetProperty("name").GetString() == "output")
            .Select(o => o.GetProperty("chain")).Single();
        Assert.Equal("output", output.GetProperty("hook").GetString());
        Assert.Equal("drop", output.GetProperty("policy").GetString());
        var allow = objects.Where(o => o.TryGetProperty("set", out var s) && s.GetProperty("name").GetString() == "allow_v4")
            .Select(o => o.GetProperty("set")).Single();
        string elements = allow.GetProperty("elem").GetRawText();
        Assert.Contains("\"203.0.113.50\"", elements);
        Assert.Contains("\"192.168.1.20\"", elements);
        Assert.DoesNotContain("198.51.100.7", elements);
        Assert.Equal(2, allow.GetProperty("elem").GetArrayLength());
    }

    [Fact]
    public void TheCliInstallsAsADotnetToolAndRuns()
    {
        string tools = Path.Combine(packages.Work, "tools");
        var environment = new Dictionary<string, string>
        {
            ["NUGET_PACKAGES"] = Path.Combine(packages.Work, "tool-nuget-cache"),
            ["DOTNET_ROOT"] = PackedPackages.DotnetRoot,
        };
        var install = PackedPackages.Dotnet(
            $"tool install NetlinkFence.Cli --version {PackedPackages.Version} --tool-path {tools} --add-source {packages.PackageFolder}",
            packages.Work, environment);
        Assert.True(install.ExitCode == 0, $"dotnet tool install failed:\n{install.Stdout}{install.Stderr}");

        string netlinkfence = Path.Combine(tools, "netlinkfence");
        var version = PackedPackages.Run(netlinkfence, "--version", packages.Work, environment);
        Assert.True(version.ExitCode == 0, version.Stdout + version.Stderr);
        Assert.StartsWith(PackedPackages.Version + "+", version.Stdout.Trim(), StringComparison.Ordinal);   // + the commit

        var lint = PackedPackages.Run(netlinkfence, $"lint {Path.Combine(packages.Root, "examples", "ironclaw-agent.yaml")}", packages.Work, environment);
        Assert.True(lint.ExitCode == 0, $"lint exited {lint.ExitCode}:\n{lint.Stdout}{lint.Stderr}");
        var bad = PackedPackages.Run(netlinkfence, $"lint {Path.Combine(packages.Work, "missing.yaml")}", packages.Work, environment);
        Assert.Equal(2, bad.ExitCode);
    }

    [Fact]
    public void LibraryPackagesCarryTheirMetadataDocumentationReadmeAndSourceLink()
    {
        Assert.DoesNotContain("warning", packages.PackOutput, StringComparison.OrdinalIgnoreCase);
        foreach (string id in new[] { "NetlinkFence", "NetlinkFence.Interop" })
        {
            using var nupkg = ZipFile.OpenRead(packages.PackagePath(id));
            var entries = nupkg.Entries.Select(e => e.FullName).ToHashSet();
            Assert.Contains($"lib/net10.0/{id}.dll", entries);
            Assert.Contains($"lib/net10.0/{id}.xml", entries);   // IntelliSense: every public member documented
            Assert.Contains("README.md", entries);

            var nuspec = XDocument.Load(nupkg.GetEntry($"{id}.nuspec")!.Open()).Root!;
            XNamespace ns = nuspec.Name.Namespace;
            var metadata = nuspec.Element(ns + "metadata")!;
            Assert.Equal(PackedPackages.Version, metadata.Element(ns + "version")!.Value);
            Assert.Equal("MIT", metadata.Element(ns + "license")!.Value);
            Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
            var repository = metadata.Element(ns + "repository")!;
            Assert.Matches("^[0-9a-f]{40}$", repository.Attribute("commit")!.Value);
            Assert.StartsWith("https://", repository.Attribute("url")!.Value, StringComparison.Ordinal);
            if (id == "NetlinkFence")
            {
                // An embedder references NetlinkFence alone: the interop assembly comes as a dependency, same version.
                var interop = metadata.Descendants(ns + "dependency").Single(d => d.Attribute("id")!.Value == "NetlinkFence.Interop");
                Assert.Equal(PackedPackages.Version, interop.Attribute("version")!.Value);
                using var reader = new StreamReader(nupkg.GetEntry("README.md")!.Open());
                string readme = reader.ReadToEnd();
                Assert.Contains("new PolicyBuilder()", readme);
                Assert.Contains("LivePolicy.AttachAsync", readme);
            }

            // The symbols package's PDB maps the sources to the repository at the commit they were built from
            // (SourceLink): the one the assemblies these tests load carry in their version (packed with --no-build).
            using var snupkg = ZipFile.OpenRead(Path.ChangeExtension(packages.PackagePath(id), ".snupkg"));
            using var pdb = new MemoryStream();
            snupkg.GetEntry($"lib/net10.0/{id}.pdb")!.Open().CopyTo(pdb);
            pdb.Position = 0;
            using var provider = MetadataReaderProvider.FromPortablePdbStream(pdb);
            string sourceLink = SourceLinkJson(provider.GetMetadataReader());
            Assert.Contains("https://raw.githubusercontent.com/", sourceLink);
            Assert.Contains($"/{BuiltCommit}/", sourceLink);
        }

        using var tool = ZipFile.OpenRead(packages.PackagePath("NetlinkFence.Cli"));
        var settings = XDocument.Load(tool.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open());
        Assert.Equal("netlinkfence", settings.Descendants("Command").Single().Attribute("Name")!.Value);
    }

    private static string BuiltCommit =>
        typeof(NetlinkFence.Policy.PolicyBuilder).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[1];

    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    private static string SourceLinkJson(MetadataReader reader)
    {
        foreach (var handle in reader.CustomDebugInformation)
        {
            var information = reader.GetCustomDebugInformation(handle);
            if (reader.GetGuid(information.Kind) == SourceLinkKind)
                return Encoding.UTF8.GetString(reader.GetBlobBytes(information.Value));
        }
        return "";
    }
}
