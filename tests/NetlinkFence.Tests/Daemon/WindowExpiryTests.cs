using System.Text.RegularExpressions;
using NetlinkFence.Cli.Daemon;
using NetlinkFence.Tests.TestSupport;
using Xunit;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// The end of a window, which the kernel enforces and no command asks for, is recorded by a running daemon as an
/// <c>expire</c> in the window log and its own log: the window log then says when an update window closed as well as
/// when it opened. A window closed early is a <c>close</c>, never also an <c>expire</c>. Real daemon, real kernel.
/// </summary>
public sealed class WindowExpiryTests
{
    private const string Policy = """
        version: 1
        egress:
          allow:
            - name: mirror
              to: [203.0.113.60]
              tcp: [80]
              window: 30m
            - name: updates
              to: [203.0.113.61]
              tcp: [443]
              window: 30m

        """;

    [Fact]
    public void TheDaemonRecordsEachWindowTheKernelClosedAtItsEnd()
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(Policy);
        using var daemon = DaemonProcess.Start(policy, ns);
        daemon.WaitReady();
        // Closed early: recorded as a close only, although its end (3 s) comes before mirror's.
        Run($"open updates --for 3s --policy {policy} --netns {ns.Name}", daemon);
        Run($"close updates --policy {policy} --netns {ns.Name}", daemon);
        Run($"open mirror --for 4s --policy {policy} --netns {ns.Name}", daemon);
        var opened = DateTimeOffset.UtcNow;

        string expire = $@"uid=0 expire mirror table=inet netlinkfence namespace {Regex.Escape(ns.Name)}: its time ran out at (\d\d:\d\d:\d\d)Z and the kernel closed it\n";
        Assert.True(Poll.Until(() => Regex.IsMatch(WindowLog(ns), expire), 60), WindowLog(ns) + daemon.Log);
        var ranOut = TimeOnly.Parse(Regex.Match(WindowLog(ns), expire).Groups[1].Value);
        Assert.InRange(ranOut.ToTimeSpan() - TimeOnly.FromDateTime(opened.UtcDateTime).ToTimeSpan(), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)); // the end, not when it was noticed
        // Waited for: the test reads the daemon's stderr beside it, and the window log may be read first.
        Assert.True(daemon.WaitForLog("netlinkfence[run]: expire mirror (uid 0): its time ran out at"), daemon.Log);
        Assert.Matches(@"uid=0 close updates table=inet netlinkfence namespace \S+: closed now, [1-3]s before its end at \d\d:\d\d:\d\dZ\n", WindowLog(ns));
        Assert.DoesNotContain("203.0.113.60", ns.Nft("list set inet netlinkfence allow_v4"));

        // Opened again after its end: a new opening, with an end of its own.
        Run($"open mirror --for 2s --policy {policy} --netns {ns.Name}", daemon);
        Assert.True(Poll.Until(() => Regex.Matches(WindowLog(ns), expire).Count == 2, 60), WindowLog(ns) + daemon.Log);
        var verbs = Regex.Matches(WindowLog(ns), $@"uid=0 (\w+) (\w+) table=inet netlinkfence namespace {Regex.Escape(ns.Name)}:").Select(m => $"{m.Groups[1].Value} {m.Groups[2].Value}");
        Assert.True(verbs.SequenceEqual(["open updates", "close updates", "open mirror", "expire mirror", "open mirror", "expire mirror"]), WindowLog(ns) + daemon.Log);
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitExit());
        File.Delete(policy);
    }

    [Fact]
    public void AWindowThatRanOutBeforeAChangeIsDueAlsoWhenTheChangeOpenedItAgain()
    {
        var t0 = DateTimeOffset.UnixEpoch.AddDays(20000);
        var expiries = new WindowExpiries();
        expiries.Changed([("a", t0.AddSeconds(10)), ("b", t0.AddSeconds(10)), ("c", t0.AddSeconds(30))], t0);
        Assert.Equal(t0.AddSeconds(10), expiries.NextEnd);
        // At 12 s: a ran out and was opened again, b ran out; c was closed by this change (it had time left).
        var woken = expiries.WhenChanged;
        expiries.Changed([("a", t0.AddSeconds(40))], t0.AddSeconds(12));
        Assert.True(woken.IsCompleted);
        Assert.Equal([("a", t0.AddSeconds(10)), ("b", t0.AddSeconds(10))], expiries.TakeDue(t0.AddSeconds(12)).OrderBy(d => d.Entry));
        Assert.Empty(expiries.TakeDue(t0.AddSeconds(39)));
        Assert.Equal(t0.AddSeconds(40), expiries.NextEnd);
        // Due, but the kernel still holds it open: watched until the end it has there.
        Assert.Equal([("a", t0.AddSeconds(40))], expiries.TakeDue(t0.AddSeconds(41)));
        expiries.StillOpen("a", t0.AddSeconds(50));
        Assert.Empty(expiries.TakeDue(t0.AddSeconds(49)));
        Assert.Equal([("a", t0.AddSeconds(50))], expiries.TakeDue(t0.AddSeconds(50)));
        Assert.Null(expiries.NextEnd);
    }

    private static void Run(string arguments, DaemonProcess daemon)
    {
        var result = CliRunner.Run(arguments);
        Assert.True(result.ExitCode == 0, $"{arguments}: exit {result.ExitCode}: {result.Stderr}{result.Stdout}{daemon.Log}");
    }

    private static string WindowLog(TestNamespace ns) => TestSupport.WindowLog.Of(ns.Name);
}
