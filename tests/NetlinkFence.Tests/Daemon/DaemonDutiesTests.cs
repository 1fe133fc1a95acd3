using System.Diagnostics;
using NetlinkFence.Cli.Daemon;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// The daemon's duties (watching the table, re-binding scopes, writing metrics, refreshing names) must run as long as
/// it does: the first that ends or fails is reported, with how, so the daemon exits for its service manager to start a
/// whole one instead of running on without it; their cancellation at shutdown is their expected end, a failure is not.
/// </summary>
public sealed class DaemonDutiesTests
{
    [Fact]
    public void A_refresher_that_stops_because_its_namespace_was_deleted_ends_the_daemon_with_status_6_and_the_table_in_place()
    {
        var ns = TestNamespace.Create();
        // Keeps the namespace alive, and reachable, once its name is gone.
        using var holder = Process.Start(new ProcessStartInfo("ip", $"netns exec {ns.Name} sleep 300") { RedirectStandardInput = true })!;
        try
        {
            string policy = DaemonTests.WritePolicy("""
                version: 1
                egress:
                  dns:
                    resolvers: [127.0.0.1]
                    min_ttl: 1s
                  allow:
                    - name: cdn
                      to: [cdn.example]
                      tcp: [443]
                      resolve: lazy
                """);
            using var daemon = DaemonProcess.Start(policy, ns);
            daemon.WaitReady();
            Assert.True(daemon.WaitForLog("dns: keeping 1 name(s) fresh"), daemon.Log);

            // The refresher asks DNS from inside the namespace, which it enters by its name, every second (nothing
            // answers): with the name gone it cannot, and a daemon that no longer refreshes must not run on.
            TestNamespace.Run("ip", $"netns del {ns.Name}");
            Assert.True(daemon.WaitForLog("refreshing DNS names failed: ", 60), daemon.Log);
            Assert.Equal(6, daemon.WaitExit(60));
            Assert.Contains("while the daemon runs: exiting (status 6) for the service manager to start it again", daemon.Log);
            Assert.Contains("stopping: table inet netlinkfence stays in place", daemon.Log);
            string ruleset = TestNamespace.Run("nsenter", $"--net=/proc/{holder.Id}/ns/net nft list ruleset");
            Assert.Contains("table inet netlinkfence", ruleset);
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            holder.WaitForExit();
            ns.Dispose();
        }
    }

    [Fact]
    public async Task The_first_duty_that_fails_is_reported_with_its_error_while_the_others_run_on()
    {
        var watching = new TaskCompletionSource();
        var writing = new TaskCompletionSource();
        var duties = new DaemonDuties();
        duties.Add("watching the table", watching.Task);
        duties.Add("not configured", null);
        duties.Add("writing the metrics file", writing.Task);
        var ended = duties.FirstEndAsync();
        await Task.Yield();
        Assert.False(ended.IsCompleted); // all run

        watching.SetException(new IOException("the monitor socket failed"));
        Assert.Equal("watching the table failed: the monitor socket failed", await ended.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(writing.Task.IsCompleted);
    }

    [Fact]
    public async Task A_duty_that_returns_or_is_cancelled_while_the_daemon_runs_has_ended_too()
    {
        var binding = new TaskCompletionSource();
        var duties = new DaemonDuties();
        duties.Add("re-binding scoped services", binding.Task);
        var ended = duties.FirstEndAsync();
        binding.SetResult();
        Assert.Equal("re-binding scoped services ended", await ended.WaitAsync(TimeSpan.FromSeconds(30)));

        var cancelled = new DaemonDuties();
        cancelled.Add("writing the metrics file", Task.FromCanceled(new CancellationToken(canceled: true)));
        Assert.Equal("writing the metrics file was cancelled", await cancelled.FirstEndAsync().WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_replaced_duty_that_stopped_is_reported_even_before_anyone_waits_and_the_first_report_counts()
    {
        var duties = new DaemonDuties();
        duties.Add("writing the metrics file", new TaskCompletionSource().Task);
        duties.Fail("refreshing DNS names failed: no resolver answered");
        duties.Fail("refreshing DNS names failed: a later error");
        Assert.Equal("refreshing DNS names failed: no resolver answered", await duties.FirstEndAsync().WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Without_duties_nothing_ends()
    {
        var ended = new DaemonDuties().FirstEndAsync();
        var other = await Task.WhenAny(ended, Task.Delay(200));
        Assert.NotSame(ended, other);
    }

    [Fact]
    public async Task At_shutdown_cancellation_is_a_clean_end_and_a_failure_is_logged_and_not_clean()
    {
        var log = new List<string>();
        var clean = new DaemonDuties();
        clean.Add("watching the table", Task.FromCanceled(new CancellationToken(canceled: true)));
        clean.Add("writing the metrics file", Task.CompletedTask);
        Assert.True(await clean.StopAsync(log.Add));
        Assert.Empty(log);

        var failed = new DaemonDuties();
        failed.Add("watching the table", Task.FromCanceled(new CancellationToken(canceled: true)));
        failed.Add("re-binding scoped services", Task.FromException(new InvalidOperationException("boom")));
        Assert.False(await failed.StopAsync(log.Add));
        Assert.Equal(["re-binding scoped services failed: boom"], log);
    }
}
