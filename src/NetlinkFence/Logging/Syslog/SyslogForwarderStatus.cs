namespace NetlinkFence.Logging.Syslog;

/// <summary>A snapshot of a <see cref="SyslogTlsForwarder"/>'s counters.</summary>
public sealed record SyslogForwarderStatus
{
    /// <summary>True while a verified TLS connection to the collector is open.</summary>
    public bool Connected { get; init; }

    /// <summary>
    /// The collector connected to now (<c>host:port</c>): the first one, or a fallback while the first cannot be
    /// reached (<see cref="SyslogTlsOptions.Fallbacks"/>); null when not connected.
    /// </summary>
    public string? Collector { get; init; }

    /// <summary>True while the connection is to a fallback collector, not the first one.</summary>
    public bool OnFallback { get; init; }

    /// <summary>Records accepted into the queue.</summary>
    public ulong Enqueued { get; init; }

    /// <summary>Messages written and flushed to a connection (resends included; drop reports included).</summary>
    public ulong Sent { get; init; }

    /// <summary>Messages put back in the queue because the connection they were written on broke within the resend window.</summary>
    public ulong Resent { get; init; }

    /// <summary>Records refused because the queue was full, since the forwarder started.</summary>
    public ulong Dropped { get; init; }

    /// <summary>Records dropped and not yet reported to the collector.</summary>
    public ulong DroppedUnreported { get; init; }

    /// <summary>Messages waiting to be written.</summary>
    public int Pending { get; init; }

    /// <summary>Verified connections made so far.</summary>
    public int Connections { get; init; }

    /// <summary>
    /// When the collector's certificate, as last verified, stops being valid: after that the forwarder refuses it and
    /// nothing reaches the collector. Null before the first connection.
    /// </summary>
    public DateTimeOffset? CollectorCertificateExpires { get; init; }

    /// <summary>When the client certificate, as last presented, stops being valid (the collector then refuses it); null without one or before the first connection.</summary>
    public DateTimeOffset? ClientCertificateExpires { get; init; }

    /// <summary>Why the last connection attempt failed or the last connection ended; null when none did.</summary>
    public string? LastError { get; init; }
}
