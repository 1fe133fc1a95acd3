using NetlinkFence.Logging;
using NetlinkFence.Logging.Syslog;

namespace NetlinkFence.Cli.Watch;

/// <summary>
/// <c>watch --forward</c>: every denial also goes to the policy's <c>log.remote</c> collector (syslog over TLS).
/// Connection events go to standard error; at the end, what is queued is sent (bounded wait) and what could not be
/// is said.
/// </summary>
internal sealed class ForwardingSink(SyslogTlsForwarder forwarder, TextWriter errors, TimeSpan drainTimeout) : IDenialSink
{
    public ValueTask WriteAsync(DenialRecord record, DenialExplanation? explanation, CancellationToken cancellationToken)
    {
        forwarder.Enqueue(record, explanation is null ? null : new DenialContext(explanation.Reason, DestinationName: explanation.DestinationName));
        return ValueTask.CompletedTask;
    }

    /// <summary>Kernel and reader losses are printed by the printer; the collector learns of its own queue's drops.</summary>
    public ValueTask LostAsync(long lostInKernel, long droppedSlowConsumer, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
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

    public ValueTask DisposeAsync() => forwarder.DisposeAsync();
}
