namespace NetlinkFence.Logging.Syslog;

/// <summary>
/// What <see cref="SyslogTlsForwarder.CheckCollectorsAsync"/> found at one collector: whether a verified TLS connection
/// was made, and whether the collector confirmed reading the test message written on it.
/// </summary>
public sealed record CollectorCheck
{
    /// <summary>The collector, <c>host:port</c>.</summary>
    public required string Collector { get; init; }

    /// <summary>True for a fallback (<see cref="SyslogTlsOptions.Fallbacks"/>), false for the first collector.</summary>
    public bool IsFallback { get; init; }

    /// <summary>A verified TLS connection was made and the test message (msgid <c>TEST</c>) written on it.</summary>
    public bool Reached { get; init; }

    /// <summary>
    /// After the message, the collector answered close_notify by closing its side, which it does once it has read
    /// everything before it: the message arrived. False when reached but it did not within 5 s (it may still have).
    /// </summary>
    public bool Confirmed { get; init; }

    /// <summary>When the collector's certificate, as verified, stops being valid.</summary>
    public DateTimeOffset? CollectorCertificateExpires { get; init; }

    /// <summary>When the client certificate presented stops being valid; null without one.</summary>
    public DateTimeOffset? ClientCertificateExpires { get; init; }

    /// <summary>Why the collector was not reached (refused, no answer, a certificate refused); null when it was.</summary>
    public string? Error { get; init; }

    /// <summary>From the first connection attempt to the collector's confirmation (or the failure).</summary>
    public TimeSpan Took { get; init; }
}
