using System.Text.Json;
using System.Text.RegularExpressions;
using NetlinkFence.Cli.Watch;
using NetlinkFence.Tests.Kernel;

namespace NetlinkFence.Tests.Cli;

/// <summary>
/// One naming convention for every key of the CLI's JSON, snake_case, as the control socket's: a fleet's tooling that
/// reads several verbs should not have to know that one of them writes <c>destinationPort</c> and another
/// <c>remaining_seconds</c> (before, watch and learn wrote camelCase, show wrote <c>remainingSeconds</c>).
/// </summary>
public sealed partial class JsonKeyTests
{
    [GeneratedRegex("^[a-z][a-z0-9]*(_[a-z0-9]+)*$")]
    private static partial Regex SnakeCase();

    // The hand-written keys (Utf8JsonWriter) and the declared ones (JsonPropertyName) of the CLI's source.
    [GeneratedRegex("""(?:\.Write(?:String|Number|Boolean|Null|StartObject|StartArray)|JsonPropertyName)\("([^"]*)"[,)]""")]
    private static partial Regex KeyLiteral();

    [Fact]
    public void Every_key_written_by_hand_or_declared_is_snake_case()
    {
        string cli = Path.Combine(ApplyPolicyTests.RepositoryRoot(), "src", "NetlinkFence.Cli");
        var keys = Directory.EnumerateFiles(cli, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .SelectMany(f => KeyLiteral().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetFileName(f), Key: m.Groups[1].Value)))
            .ToList();
        Assert.True(keys.Count > 100, $"the scan found only {keys.Count} keys: has the writing code moved?");
        Assert.Empty(keys.Where(k => !SnakeCase().IsMatch(k.Key)).Select(k => $"{k.File}: {k.Key}"));
    }

    [Fact]
    public void Watch_lines_have_snake_case_keys()
    {
        var denial = new DenialLine(DateTimeOffset.UnixEpoch, "egress_denied", "ipv4", "udp", "10.0.0.1", 5353, "203.0.113.9", 123, "ntp.example",
            3, 1, 0, 0, "root", 42, "/system.slice/ntp.service", "ntp.service", false, "eth0", "eth1", "EGRESS-DENIED: ", "drop", 7, 76, false, "no entry");
        var summary = new SummaryLine(2, "udp", "10.0.0.1", "203.0.113.9", 123, "ntp.example", 0, "root", "/x", "x.service",
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, "no entry");
        var lost = new LostLine(3, 1, 2);
        string[] lines =
        [
            JsonSerializer.Serialize(denial, WatchJsonContext.Default.DenialLine),
            JsonSerializer.Serialize(summary, WatchJsonContext.Default.SummaryLine),
            JsonSerializer.Serialize(lost, WatchJsonContext.Default.LostLine),
        ];
        var keys = lines.SelectMany(l => JsonDocument.Parse(l).RootElement.EnumerateObject().Select(p => p.Name)).ToList();
        Assert.Contains("destination_port", keys);
        Assert.Contains("cgroup_unknown", keys);
        Assert.Contains("lost_in_kernel", keys);
        Assert.Empty(keys.Where(k => !SnakeCase().IsMatch(k)));
    }
}
