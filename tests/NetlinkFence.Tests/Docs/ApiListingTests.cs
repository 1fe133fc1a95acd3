using NetlinkFence.Tests.Kernel;

namespace NetlinkFence.Tests.Docs;

/// <summary>
/// docs/api.md and README's "Library" table are what <see cref="ApiListing"/> makes of the built assemblies and their
/// XML documentation: a public type added, removed or re-documented without refreshing them fails here.
/// </summary>
public sealed class ApiListingTests
{
    /// <summary>Set to 1 (scripts/update-public-api.sh does) to rewrite the files instead of checking them.</summary>
    private const string UpdateVariable = "NLF_UPDATE_DOCS";

    private const string Refresh = "refresh with: bash scripts/update-public-api.sh (or " + UpdateVariable
        + "=1 dotnet test tests/NetlinkFence.Tests -c Release --filter \"FullyQualifiedName~Docs.ApiListingTests\")";

    [Fact]
    public void DocsApiAndTheReadmeLibraryTableListEveryPublicTypeWithItsSummary()
    {
        string root = ApplyPolicyTests.RepositoryRoot();
        string apiPath = Path.Combine(root, "docs", "api.md"), readmePath = Path.Combine(root, "README.md");
        string api = ApiListing.ApiMarkdown();
        string readme = File.ReadAllText(readmePath);
        string expectedReadme = ApiListing.WithReadmeTable(readme);
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(apiPath)!);
            File.WriteAllText(apiPath, api);
            File.WriteAllText(readmePath, expectedReadme);
            return;
        }
        Assert.True(File.Exists(apiPath) && File.ReadAllText(apiPath) == api, $"docs/api.md differs from the public API; {Refresh}");
        Assert.True(readme == expectedReadme, $"README.md's library table differs from the public API; {Refresh}");
    }

    [Fact]
    public void EveryPublicTypeHasASummary()
    {
        string api = ApiListing.ApiMarkdown();
        var undocumented = api.Split('\n').Where(line => line.StartsWith("| `", StringComparison.Ordinal) && line.EndsWith("|  |", StringComparison.Ordinal)).ToList();
        Assert.True(undocumented.Count == 0, "public types without a summary:\n" + string.Join("\n", undocumented));
    }
}
