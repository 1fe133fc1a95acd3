using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Policy;

/// <summary>
/// More entries allowing one and the same destination and port than a set element can name (the kernel keeps 256
/// bytes of element userdata): a located policy error with a fix, never an internal error.
/// </summary>
public sealed class SharedDestinationTests
{
    /// <summary><paramref name="entries"/> entries, each following its own name, every name pinned to one address.</summary>
    internal static string Yaml(int entries)
    {
        var yaml = new System.Text.StringBuilder("version: 1\nhosts:\n");
        for (int i = 0; i < entries; i++)
            yaml.Append($"  name{i}.cdn.example: [198.51.100.9]\n");
        yaml.Append("egress:\n  allow:\n");
        for (int i = 0; i < entries; i++)
            yaml.Append($"    - name: cdn-service-{i:00}\n      to: [name{i}.cdn.example]\n      tcp: [443]\n");
        return yaml.ToString();
    }

    [Fact]
    public async Task Too_many_entries_on_one_destination_is_a_located_policy_error()
    {
        var resolved = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(Yaml(12), PolicyTestSupport.FileName), new FixedResolver());
        var error = Assert.Throws<PolicyException>(() => PolicyCompiler.Compile(resolved));
        var d = Assert.Single(error.Diagnostics);
        Assert.Equal("shared-destination-overflow", d.Code);
        Assert.Equal(Severity.Error, d.Severity);
        Assert.Equal(new SourceLocation(PolicyTestSupport.FileName, 17, 7), d.Location); // the first entry's "name:"
        Assert.Contains("12 entries allow one and the same destination (198.51.100.9 . tcp . 443)", d.Message);
        Assert.Contains("cdn-service-11 (line 50)", d.Message);
        Assert.Contains("merge the entries", d.Fix);

        // Nine fit (a tenth such name would not).
        var nine = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(Yaml(9), PolicyTestSupport.FileName), new FixedResolver());
        Assert.Single(PolicyCompiler.Compile(nine).Sets.Single(s => s.Set.Name == "allow_v4").Elements);
    }

    [Fact]
    public void Plan_reports_it_with_exit_2_and_the_location()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("nlf-shared").FullName, "policy.yaml");
        try
        {
            File.WriteAllText(path, Yaml(12));
            var (exit, stdout, stderr) = CliRunner.Run($"plan {path}");
            Assert.Equal(2, exit);
            Assert.Contains($"{path}:17:7: error: 12 entries allow one and the same destination", stderr);
            Assert.DoesNotContain("internal error", stderr + stdout);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
