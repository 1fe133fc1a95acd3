using System.Text.RegularExpressions;
using NetlinkFence.Tests.TestSupport;
using Xunit;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// A reload that ends or shortens an open window records it where each open and close is recorded (the daemon's log and
/// the state directory's window log, with the uid that asked), not only in the kernel: the window log is what an
/// auditor reads for when an update window let traffic through. Real daemon, real kernel, one namespace each.
/// </summary>
public sealed class ReloadedWindowsTests
{
    private const string Mirror = """
            - name: mirror
              to: [203.0.113.60]
              tcp: [80]
              window: 30m

        """;

    private static string Policy(string mirror, string logPrefix = "A: ") => $"""
        version: 1
        log:
          prefix: "{logPrefix}"
        egress:
          allow:
            - name: control
              to: [203.0.113.50]
              tcp: [443]

        """ + mirror;

    private static string WindowLog(TestNamespace ns) => TestSupport.WindowLog.Of(ns.Name);

    [Theory]
    [InlineData("shorter window", false)]
    [InlineData("shorter window", true)] // with a rule change too: an atomic replace instead of element changes
    [InlineData("entry removed", false)]
    [InlineData("window removed", false)]
    [InlineData("other entry edited", false)]
    public void AReloadRecordsWhatItDidToAnOpenWindow(string edit, bool replace)
    {
        using var ns = TestNamespace.Create();
        string policy = DaemonTests.WritePolicy(Policy(Mirror));
        using var daemon = DaemonProcess.Start(policy, ns);
        daemon.WaitReady();
        var open = CliRunner.Run($"open mirror --for 20m --policy {policy} --netns {ns.Name}");
        Assert.True(open.ExitCode == 0, $"exit {open.ExitCode}: {open.Stderr}{open.Stdout}");

        string mirror = edit switch
        {
            "shorter window" => Mirror.Replace("window: 30m", "window: 2m"),
            "entry removed" => "",
            "window removed" => Mirror.Replace("      window: 30m\n", ""),
            _ => Mirror,
        };
        string edited = Policy(mirror, replace ? "B: " : "A: ");
        File.WriteAllText(policy, edit == "other entry edited" ? edited.Replace("203.0.113.50", "203.0.113.77") : edited);
        var reload = CliRunner.Run($"reload --policy {policy} --netns {ns.Name}");
        Assert.True(reload.ExitCode == 0, $"exit {reload.ExitCode}: {reload.Stderr}{reload.Stdout}{daemon.Log}");

        string windowLog = WindowLog(ns), set = ns.Nft("list set inet netlinkfence allow_v4");
        string asked = $@"uid=0 (\w+) mirror table=inet netlinkfence namespace {Regex.Escape(ns.Name)}: ";
        string reloadBy = @"the reload \(control socket, uid 0 \(pid \d+\)\)";
        var element = Regex.Match(set, @"203\.0\.113\.60 \. tcp \. 80 [^,}]*");
        switch (edit)
        {
            case "shorter window":
                Assert.Matches(asked + $@"its window is 2m after {reloadBy}: open (2m|1m5\ds) from now, where it had (20m|19m\d+s) left", windowLog);
                Assert.Matches(@"shorten mirror \(uid 0\): its window is 2m after", daemon.Log);
                // The kernel closes it on the new time.
                var timeout = Regex.Match(element.Value, @"timeout (\d+m)?(\d+s)?");
                Assert.True(element.Success && timeout.Success && !element.Value.Contains("timeout 20m") && !Regex.IsMatch(element.Value, @"timeout (1\d|[3-9])m"), set);
                Assert.Contains(replace ? "atomic replace of the table" : "element changes only: 0 removed, 0 added, 1 with a new timeout", daemon.Log);
                break;
            case "entry removed":
                Assert.Matches(asked + $@"closed by {reloadBy}: the policy has no entry 'mirror' now", windowLog);
                Assert.False(element.Success, set);
                break;
            case "window removed":
                Assert.Matches(asked + $@"no longer a window after {reloadBy}: 'mirror' has no 'window:' now, so the policy allows it at all times", windowLog);
                Assert.True(element.Success && !element.Value.Contains("timeout"), set);
                break;
            default:
                Assert.True(element.Success && element.Value.Contains("timeout"), set);
                break;
        }
        // The open, then at most the one line of the reload: a window the reload left as it was is not named.
        var verbs = Regex.Matches(windowLog, asked).Select(m => m.Groups[1].Value).ToList();
        string expected = edit switch { "shorter window" => "shorten", "entry removed" => "close", "window removed" => "permanent", _ => "" };
        Assert.Equal(expected == "" ? ["open"] : ["open", expected], verbs);
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitExit());
        File.Delete(policy);
    }
}
