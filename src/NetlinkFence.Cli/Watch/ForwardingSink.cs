using NetlinkFence.Logging;
using NetlinkFence.Logging.Syslog;

namespace NetlinkFence.Cli.Watch;

/// <summary>
/// <c>watch --forward</c>: every denial also goes to the policy's <c>log.remote</c> collector (syslog over TLS).
/// Connection events go to standard error; at the end, what is queued is sent (bounded wait) and what could not be
/// is said. The daemon (<c>run</c>) uses it too, with <paramref name="reportLosses"/>: it has no printer to say them.
/// With <paramref name="unlogged"/>, the denials over <c>log.rate</c> are reported too, a last time before the flush.
/// </summary>
internal sealed class ForwardingSink(SyslogTlsForwarder forwarder, TextWriter errors, TimeSpan drainTimeout, bool reportLosses = false,
    UnloggedReporter? unlogged = null) : IDenialSink
{
    private bool _dropping;

    public ValueTask WriteAsync(DenialRecord record, DenialExplanation? explanation, CancellationToken cancellationToken)
    {
        bool queued = forwarder.Enqueue(record, explanation?.ToContext());
        if (!queued && !_dropping) // said once per run of drops; the forwarder reports the count to the collector
            errors.WriteLine($"netlinkfence: forward: the queue for {forwarder.Options.Endpoint} is full ({forwarder.Options.QueueCapacity}): denials are dropped and counted");
        _dropping = !queued;
        return ValueTask.CompletedTask;
    }

    /// <summary>Kernel and reader losses: watch's printer says them; with <c>reportLosses</c> (the daemon) this sink does.</summary>
    public ValueTask LostAsync(long lostInKernel, long droppedSlowConsumer, CancellationToken cancellationToken)
    {
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
            await errors.WriteLineAsync($"netlinkfence: {status.Pending} denial(s) not delivered to {forwarder.Options.Endpoint} within {drainTimeout.TotalSeconds:0} s"
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
