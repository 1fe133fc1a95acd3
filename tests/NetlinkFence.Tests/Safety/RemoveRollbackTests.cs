using System.Text.RegularExpressions;
using NetlinkFence.Tests.Live;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Safety;

/// <summary>
/// <c>remove</c> keeps the table it removed as the rollback point, as an apply keeps the table it replaces: an
/// accidental remove (which leaves the host unfiltered) is undone by <c>rollback</c>, windows included for the time
/// they have left, and the window log says what the remove closed. While an apply waits for its confirmation, that
/// apply's rollback point stays. Fresh namespaces, nft as the oracle.
/// </summary>
public sealed class RemoveRollbackTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nlf-remove-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Policy(string logPrefix)
    {
        string path = Path.Combine(_dir, $"{logPrefix}.yaml");
        File.WriteAllText(path, $"log:\n  prefix: \"{logPrefix}: \"\n" + LivePolicyTests.Yaml);
        return path;
    }

    private static string Ok(string arguments)
    {
        var result = CliRunner.Run(arguments);
        Assert.True(result.ExitCode == 0, $"{arguments}: exit {result.ExitCode}: {result.Stderr}{result.Stdout}");
        return result.Stdout + result.Stderr;
    }

    /// <summary>A listing without what runs down or counts up between two listings.</summary>
    private static string Stable(string listing) => Regex.Replace(listing, @" expires \S+| timeout \S+| packets \d+ bytes \d+", "");

    [Fact]
    public void RollbackUndoesARemoveWithItsOpenWindow()
    {
        using var ns = TestNamespace.Create();
        string first = Policy("first"), second = Policy("second");
        Ok($"apply {first} --netns {ns.Name}");
        Ok($"apply {second} --netns {ns.Name}");
        Ok($"open updates --policy {second} --netns {ns.Name}");
        string before = ns.Nft("list ruleset");

        string removed = Ok($"remove --policy {second} --netns {ns.Name}");
        Assert.Contains("removed table inet netlinkfence; netlinkfence no longer filters this namespace: egress is UNRESTRICTED", removed);
        Assert.Contains($"'netlinkfence rollback --netns {ns.Name}' puts it back", removed);
        Assert.DoesNotContain("table inet netlinkfence", ns.Nft("list ruleset"));

        string rolledBack = Ok($"rollback --netns {ns.Name}");
        Assert.Contains("1 of them timed, with the time it has left now", rolledBack);
        // The removed table (the second policy's), not the one before the last apply; its window open again.
        string after = ns.Nft("list ruleset");
        Assert.Contains("\"second: \"", after);
        Assert.Equal(Stable(before), Stable(after));
        string log = WindowLog.Of(ns.Name);
        Assert.Matches(@"uid=0 close updates table=inet netlinkfence namespace \S+: closed by remove, which deleted the table \(it had (1m|\d+s) left\)", log);
        Assert.Matches(@"uid=0 reopen updates table=inet netlinkfence namespace \S+: back with the table that rollback restored", log);
    }

    [Fact]
    public void WhileAnApplyWaitsForItsConfirmationItsRollbackPointStays()
    {
        using var ns = TestNamespace.Create();
        string first = Policy("first"), second = Policy("second");
        Ok($"apply {first} --netns {ns.Name}");
        string confirmed = ns.Nft("list ruleset");
        Ok($"apply {second} --netns {ns.Name} --confirm-within 5m");
        string removed = Ok($"remove --netns {ns.Name}");
        Assert.Contains("the unconfirmed apply's rollback point stays the table before it", removed);
        Ok($"rollback --netns {ns.Name}");
        Assert.Equal(Stable(confirmed), Stable(ns.Nft("list ruleset")));
    }

    [Fact]
    public void RemovingNothingKeepsTheRollbackPoint()
    {
        using var ns = TestNamespace.Create();
        string first = Policy("first"), second = Policy("second");
        Ok($"apply {first} --netns {ns.Name}");
        Ok($"apply {second} --netns {ns.Name}");
        Ok($"remove --netns {ns.Name}");
        var again = CliRunner.Run($"remove --netns {ns.Name}");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("there was no table inet netlinkfence; nothing to remove", again.Stderr);
        Ok($"rollback --netns {ns.Name}");
        Assert.Contains("\"second: \"", ns.Nft("list ruleset"));
    }
}
