using System.Text.Json;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>
/// The table names the build that applied it (its nft comment), so after a fleet upgrades netlinkfence, <c>verify</c>
/// can say that differences may be how the new build compiles the same policy rather than changes made to the table.
/// The "older builds'" tables are the listing of a real apply committed again under another comment, in a fresh namespace.
/// </summary>
public sealed class VerifyOtherBuildTests : IDisposable
{
    private readonly string _policy = Path.Combine(Path.GetTempPath(), $"nlf-verify-build-{Guid.NewGuid():N}.yaml");

    public VerifyOtherBuildTests() => File.WriteAllText(_policy, Live.LivePolicyTests.Yaml);

    public void Dispose() => File.Delete(_policy);

    [Fact]
    public async Task The_table_names_the_build_that_applied_it_and_verify_says_when_another_build_did()
    {
        using var ns = TestNamespace.Create();
        var first = CliRunner.Run($"apply {_policy} --netns {ns.Name} --output json");
        Assert.True(first.ExitCode == 0, first.Stdout + first.Stderr);
        string build = OtherBuild.ThisBuild();
        Assert.Equal(build, Json(first).GetProperty("applied_by").GetString());
        Assert.False(Json(first).TryGetProperty("replaced_applied_by", out _)); // there was no table to replace
        Assert.Contains($"applied by this build, {build}\n", Status(ns, json: false).Stdout);
        Assert.Equal(build, Json(Status(ns, json: true)).GetProperty("applied_by").GetString());
        Assert.Contains($"\tcomment \"{build}\"\n", ns.Nft("list table inet netlinkfence"));
        var same = Verify(ns, json: true);
        Assert.Equal(0, same.ExitCode);
        Assert.Equal(build, Json(same).GetProperty("applied_by").GetString());
        Assert.Equal(build, Json(same).GetProperty("compiled_by").GetString());
        Assert.Equal(build, Json(CliRunner.Run($"show --policy {_policy} --netns {ns.Name} --output json")).GetProperty("applied_by").GetString());

        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var applied = (await nft.ListTableAsync(NftFamily.Inet, "netlinkfence"))!;
        var withoutForwardDrop = applied with { Rules = applied.Rules.Where(r => r.Chain != "forward").ToList() };

        // An older build wrote the same rules: not drift, the comment names who wrote it, not what it filters.
        await ReplaceAsync(nft, applied, "netlinkfence 0.4.0");
        var older = Verify(ns, json: true);
        Assert.True(older.ExitCode == 0, older.Stdout + older.Stderr);
        Assert.Equal("netlinkfence 0.4.0", Json(older).GetProperty("applied_by").GetString());
        // apply --if-changed judges as verify does: nothing committed, and the table keeps naming the build that applied it.
        var ifChanged = CliRunner.Run($"apply {_policy} --if-changed --netns {ns.Name}");
        Assert.True(ifChanged.ExitCode == 0, ifChanged.Stdout + ifChanged.Stderr);
        Assert.Contains("nothing committed (--if-changed)", ifChanged.Stdout);
        Assert.Contains("\tcomment \"netlinkfence 0.4.0\"\n", ns.Nft("list table inet netlinkfence"));
        var ifChangedJson = CliRunner.Run($"apply {_policy} --if-changed --netns {ns.Name} --output json");
        Assert.True(ifChangedJson.ExitCode == 0, ifChangedJson.Stdout + ifChangedJson.Stderr);
        Assert.False(Json(ifChangedJson).GetProperty("committed").GetBoolean());
        Assert.Equal("netlinkfence 0.4.0", Json(ifChangedJson).GetProperty("applied_by").GetString());
        // status says which build's table is live, and that it is not this one.
        var status = Status(ns, json: false);
        Assert.True(status.ExitCode == 0, status.Stdout + status.Stderr);
        Assert.Contains($"applied by netlinkfence 0.4.0, not this build ({build}): 'netlinkfence verify' says whether the two filter the same\n", status.Stdout);
        Assert.Equal("netlinkfence 0.4.0", Json(Status(ns, json: true)).GetProperty("applied_by").GetString());
        // A fleet sees which builds its tables come from.
        string metrics = _policy + ".prom";
        try
        {
            var stats = CliRunner.Run($"stats --prometheus {metrics} --policy {_policy} --netns {ns.Name}");
            Assert.True(stats.ExitCode == 0, stats.Stdout + stats.Stderr);
            Assert.Equal(1, PrometheusParser.Parse(metrics).Value("netlinkfence_table_info", ("table", "netlinkfence"), ("applied_by", "netlinkfence 0.4.0"), ("build", build)));
        }
        finally
        {
            File.Delete(metrics);
        }

        // An older build that compiled one rule less: the difference, and that another build applied the table.
        await ReplaceAsync(nft, withoutForwardDrop, "netlinkfence 0.4.0");
        var drift = Verify(ns, json: false);
        Assert.True(drift.ExitCode == 1, drift.Stdout + drift.Stderr);
        Assert.Contains("- chain forward: rule counter packets 0 bytes 0 drop", drift.Stdout);
        Assert.Contains($"the table was applied by netlinkfence 0.4.0 and this is {build}: some differences may be how the two compile the same policy", drift.Stdout);

        // A table that names no build (applied before builds named themselves, or made by another tool).
        await ReplaceAsync(nft, withoutForwardDrop, comment: null);
        drift = Verify(ns, json: false);
        Assert.True(drift.ExitCode == 1, drift.Stdout + drift.Stderr);
        Assert.Contains($"the table was applied by a build that names none (an older release, or another tool) and this is {build}: some differences may be", drift.Stdout);
        var json = Verify(ns, json: true);
        Assert.Equal(JsonValueKind.Null, Json(json).GetProperty("applied_by").ValueKind);

        // apply says which build it replaced, so an upgrade's journal has it; not when it replaces its own build's.
        var upgrade = CliRunner.Run($"apply {_policy} --netns {ns.Name}");
        Assert.True(upgrade.ExitCode == 0, upgrade.Stdout + upgrade.Stderr);
        Assert.Contains($"the table it replaced was applied by a build that names none (an older release, or another tool); the table now names this build, {build}", upgrade.Stdout);
        await ReplaceAsync(nft, applied, comment: null);
        Assert.Equal(JsonValueKind.Null, Json(Status(ns, json: true)).GetProperty("applied_by").ValueKind);
        Assert.Contains($"applied by a build that names none (an older release, or another tool), not this build ({build})", Status(ns, json: false).Stdout);
        upgrade = CliRunner.Run($"apply {_policy} --netns {ns.Name} --output json"); // the note goes to stderr, the document says it too
        Assert.True(upgrade.ExitCode == 0, upgrade.Stdout + upgrade.Stderr);
        Assert.Contains("the table it replaced was applied by a build that names none", upgrade.Stderr);
        Assert.Equal(JsonValueKind.Null, Json(upgrade).GetProperty("replaced_applied_by").ValueKind);
        await ReplaceAsync(nft, applied, "netlinkfence 0.4.0");
        upgrade = CliRunner.Run($"apply {_policy} --netns {ns.Name}");
        Assert.Contains($"the table it replaced was applied by netlinkfence 0.4.0; the table now names this build, {build}", upgrade.Stdout);
        await ReplaceAsync(nft, applied, "netlinkfence 0.4.0");
        upgrade = CliRunner.Run($"apply {_policy} --netns {ns.Name} --output json");
        Assert.True(upgrade.ExitCode == 0, upgrade.Stdout + upgrade.Stderr);
        Assert.Equal("netlinkfence 0.4.0", Json(upgrade).GetProperty("replaced_applied_by").GetString());
        Assert.Equal(build, Json(upgrade).GetProperty("applied_by").GetString());
        var again = CliRunner.Run($"apply {_policy} --netns {ns.Name}");
        Assert.True(again.ExitCode == 0, again.Stdout + again.Stderr);
        Assert.DoesNotContain("the table it replaced", again.Stdout + again.Stderr);
        again = CliRunner.Run($"apply {_policy} --netns {ns.Name} --output json");
        Assert.Equal(build, Json(again).GetProperty("replaced_applied_by").GetString());

        // Drift made to a table this build applied says nothing about builds.
        ns.Nft("flush chain inet netlinkfence forward");
        drift = Verify(ns, json: false);
        Assert.True(drift.ExitCode == 1, drift.Stdout + drift.Stderr);
        Assert.Contains("- chain forward: rule counter packets 0 bytes 0 drop", drift.Stdout);
        Assert.DoesNotContain("applied by", drift.Stdout);
        Assert.DoesNotContain("names none", drift.Stdout);
    }

    private (int ExitCode, string Stdout, string Stderr) Verify(TestNamespace ns, bool json) =>
        CliRunner.Run($"verify {_policy} --netns {ns.Name}{(json ? " --output json" : "")}");

    private (int ExitCode, string Stdout, string Stderr) Status(TestNamespace ns, bool json) =>
        CliRunner.Run($"status --policy {_policy} --netns {ns.Name}{(json ? " --output json" : "")}");

    private static JsonElement Json((int ExitCode, string Stdout, string Stderr) run) => JsonDocument.Parse(run.Stdout).RootElement;

    private static Task ReplaceAsync(NftablesConnection nft, TableContents contents, string? comment) => OtherBuild.ReplaceAsync(nft, contents, comment);
}
