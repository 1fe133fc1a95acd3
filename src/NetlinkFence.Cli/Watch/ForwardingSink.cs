using NetlinkFence.Logging;
using NetlinkFence.Logging.Syslog;

namespace NetlinkFence.Cli.Watch;

/// <summary>
/// <c>watch --forward</c>: every denial also goes to the policy's <c>log.remote</c> collector (syslog over TLS).
/// Connection events go to standard error; at the end, what is queued is sent (bounded wait) and what could not be
/// is said. The daemon (<c>run</c>) uses it too, with <paramref name="reportLosses"/>: it has no printer to say them.
/// With <paramref name="unlogged"/>, the denials over <c>log.rate</c> are reported too, a last time before the flush;
/// what the reader lost is always reported (<c>LOST</c>).
/// </summary>
internal sealed class ForwardingSink(SyslogTlsForwarder forwarder, TextWriter errors, TimeSpan drainTimeout, bool reportLosses = false,
    UnloggedReporter? unlogged = null) : IDenialSink
{
    private bool _dropping;
    private DateTimeOffset _lossesSince = DateTimeOffset.UtcNow; // a loss is known when the reader counts it, not when it happened: it is reported for the time since the last report

    /// <summary>Where denials go: the collector, or the collectors in order of preference (<c>A or B</c>).</summary>
    private string Collectors => string.Join(" or ", forwarder.Options.Fallbacks.Select(NetlinkFence.Policy.RemoteLogSettings.FormatEndpoint).Prepend(forwarder.Options.Endpoint));

    public ValueTask WriteAsync(DenialRecord record, DenialExplanation? explanation, CancellationToken cancellationToken)
    {
        bool queued = forwarder.Enqueue(record, explanation?.ToContext());
        if (!queued && !_dropping) // said once per run of drops; the forwarder reports the count to the collector
            errors.WriteLine($"netlinkfence: forward: the queue for {Collectors} is full ({forwarder.Options.QueueCapacity}): denials are dropped and counted");
        _dropping = !queued;
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Kernel and reader losses go to the collector (<c>LOST</c>), which otherwise could not tell them from a quiet
    /// host; watch's printer says them on the terminal, and with <c>reportLosses</c> (the daemon) this sink does.
    /// </summary>
    public ValueTask LostAsync(long lostInKernel, long droppedSlowConsumer, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        if (lostInKernel > 0)
            forwarder.ReportLost((ulong)lostInKernel, DenialLoss.KernelQueue, _lossesSince, now);
        if (droppedSlowConsumer > 0)
            forwarder.ReportLost((ulong)droppedSlowConsumer, DenialLoss.ReaderBuffer, _lossesSince, now);
        _lossesSince = now;
        if (reportLosses)
            errors.WriteLine($"netlinkfence: forward: {DenialPrinter.LostText(lostInKernel, droppedSlowConsumer)}");
        return ValueTask.CompletedTask;
    }

    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        if (unlogged is not null)
            await unlogged.FinishAsync();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(drainTimeout);
        try
        {
            await forwarder.FlushAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            var status = forwarder.Status;
            await errors.WriteLineAsync($"netlinkfence: {status.Pending} denial(s) not delivered to {Collectors} within {drainTimeout.TotalSeconds:0} s"
                + (status.LastError is null ? "" : $": {status.LastError}"));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (unlogged is not null)
            await unlogged.DisposeAsync();
        await forwarder.DisposeAsync();
    }
}
