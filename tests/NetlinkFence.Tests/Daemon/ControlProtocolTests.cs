using System.Text;
using System.Text.Json;
using NetlinkFence.Cli.Daemon;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// The control protocol across versions: an answer with fields this version does not know (a later daemon's) still
/// reads, with the fields it knows; a request with a field the daemon does not know is refused.
/// </summary>
public sealed class ControlProtocolTests
{
    [Fact]
    public void AnAnswerWithFieldsALaterDaemonAddsStillReads()
    {
        const string later = """
            {"ok":true,"message":"2 windows","exit":0,"table":"netlinkfence","mode":"owner","pid":42,"uptime_seconds":9,
             "windows":[{"entry":"updates","open":true,"remaining_seconds":60,"opened_by":1000}],
             "audit":{"table":"netlinkfence","remaining_seconds":30,"ends":"2026-12-06T08:00:00+00:00","started_by":0}}
            """;
        var answer = JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(later), ControlJsonContext.Default.ControlResponse)!;

        Assert.True(answer.Ok);
        Assert.Equal("owner", answer.Mode);
        Assert.Equal(42, answer.Pid);
        var window = Assert.Single(answer.Windows!);
        Assert.Equal(("updates", true, 60.0), (window.Entry, window.Open, window.RemainingSeconds));
        Assert.Equal(30.0, answer.Audit!.RemainingSeconds);
    }

    [Fact]
    public void ARequestWithAFieldTheDaemonDoesNotKnowIsRefused()
    {
        var refused = Assert.Throws<JsonException>(() =>
            JsonSerializer.Deserialize("""{"op":"open","name":"updates","forr":"10m"}"""u8, ControlJsonContext.Default.ControlRequest));
        Assert.Contains("forr", refused.Message);
    }
}
