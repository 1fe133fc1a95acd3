using NetlinkFence.Logging;

namespace NetlinkFence.Cli.Watch;

/// <summary>
/// One consumer of the denial stream <c>watch</c> reads: the printer, the summary, and (<c>watch --forward</c>) a
/// forwarder. Each record is handed to every sink in order, with the policy's explanation when there is one.
/// </summary>
internal interface IDenialSink : IAsyncDisposable
{
    /// <summary>One denial, as the reader decoded it, and what the policy says about it (null without a policy).</summary>
    ValueTask WriteAsync(DenialRecord record, DenialExplanation? explanation, CancellationToken cancellationToken);

    /// <summary>Losses the reader counted since the last call: <paramref name="lostInKernel"/> (ENOBUFS, sequence gaps) and
    /// <paramref name="droppedSlowConsumer"/> (the sinks fell behind).</summary>
    ValueTask LostAsync(long lostInKernel, long droppedSlowConsumer, CancellationToken cancellationToken);

    /// <summary>The stream ended (count, duration, Ctrl-C): flush what is held.</summary>
    ValueTask CompleteAsync(CancellationToken cancellationToken);
}
