using System.Text.Json.Serialization;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// How the daemon's denial forwarding is doing, for its metrics file and for <c>status</c> (the control protocol's
/// <c>forwarding</c>, these JSON names): whether the collector is connected, what waits, what was sent, and every way a
/// denial the kernel logged can fail to reach the collector. Counts are since the pipeline started (a reload that
/// changes <c>log.remote</c> or the group starts a new one).
/// </summary>
/// <param name="Collector">host:port of <c>log.remote</c>'s first collector.</param>
/// <param name="Group">The NFLOG group read.</param>
/// <param name="Connected">A verified TLS connection is open now.</param>
/// <param name="Queued">Messages waiting to be written.</param>
/// <param name="Sent">Messages written to the collector (resends, reports and heartbeats included).</param>
/// <param name="DroppedQueueFull">Denials dropped because the queue was full (the collector is told how many).</param>
/// <param name="LostInKernel">Denials the kernel could not deliver to the reader (its socket's queue overflowed).</param>
/// <param name="LostInReader">Denials the reader dropped because the forwarder fell behind.</param>
/// <param name="LostUnbound">Denials logged while no reader was bound (between a reader's failure and the next).</param>
/// <param name="ReaderRestarts">Times the NFLOG group was bound again after its reader failed or ended.</param>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
internal sealed record ForwardingHealth(
    [property: JsonPropertyName("collector")] string Collector,
    [property: JsonPropertyName("group")] int Group,
    [property: JsonPropertyName("connected")] bool Connected,
    [property: JsonPropertyName("queued")] int Queued,
    [property: JsonPropertyName("sent")] ulong Sent,
    [property: JsonPropertyName("dropped")] ulong DroppedQueueFull,
    [property: JsonPropertyName("lost_kernel")] ulong LostInKernel,
    [property: JsonPropertyName("lost_reader")] ulong LostInReader,
    [property: JsonPropertyName("lost_unbound")] ulong LostUnbound,
    [property: JsonPropertyName("reader_restarts")] ulong ReaderRestarts)
{
    /// <summary>The collectors that take over, in order, while the first cannot be reached (host:port).</summary>
    [JsonPropertyName("fallbacks")] public IReadOnlyList<string> Fallbacks { get; init; } = [];

    /// <summary>With fallbacks, how often the first collector is tried again while one is used (<c>failback:</c>), in seconds.</summary>
    [JsonPropertyName("failback_seconds")] public double? FailbackSeconds { get; init; }

    /// <summary>The collector connected to now: the first, or a fallback; null when not connected.</summary>
    [JsonPropertyName("connected_to")] public string? ConnectedTo { get; init; }

    /// <summary>Whether denials go to a fallback now.</summary>
    [JsonIgnore] public bool OnFallback => Connected && ConnectedTo is not null && ConnectedTo != Collector;

    /// <summary><c>log.remote.heartbeat</c> in seconds; null without one.</summary>
    [JsonPropertyName("heartbeat_seconds")] public double? HeartbeatSeconds { get; init; }

    /// <summary>When the collector's certificate, as last verified, stops being valid (null before the first connection).</summary>
    [JsonPropertyName("collector_certificate_expires")] public DateTimeOffset? CollectorCertificateExpires { get; init; }

    /// <summary>When the client certificate, as last presented, stops being valid (null without one).</summary>
    [JsonPropertyName("client_certificate_expires")] public DateTimeOffset? ClientCertificateExpires { get; init; }

    /// <summary>" (fallback B, then C; the first tried again every 5m while on one)", or nothing without fallbacks.</summary>
    private string FallbacksText
    {
        get
        {
            if (Fallbacks.Count == 0)
                return "";
            string failback = FailbackSeconds is { } seconds ? $"; the first tried again every {WindowDuration.Format(TimeSpan.FromSeconds(seconds))} while on one" : "";
            return $" (fallback {string.Join(", then ", Fallbacks)}{failback})";
        }
    }

    /// <summary>One line for <c>status</c>.</summary>
    public string Describe()
    {
        ulong lost = LostInKernel + LostInReader + LostUnbound;
        string connection = !Connected ? "NOT CONNECTED" : OnFallback ? $"connected to the fallback {ConnectedTo} ({Collector} cannot be reached)" : "connected";
        return $"forwarding: denials of NFLOG group {Group} to {Collector}{FallbacksText}: {connection}, {Queued} queued, {Sent} sent, "
            + $"{DroppedQueueFull} dropped (queue full), {lost} lost"
            + (lost == 0 ? "" : $" ({LostInKernel} in the kernel, {LostInReader} in the reader, {LostUnbound} while no reader was bound)")
            + (ReaderRestarts == 0 ? "" : $", reader bound again {ReaderRestarts} time(s)")
            + (HeartbeatSeconds is { } every ? $"; a heartbeat every {WindowDuration.Format(TimeSpan.FromSeconds(every))}" : "; no heartbeat")
            + (CollectorCertificateExpires is { } collector ? $"; collector certificate valid until {collector:yyyy-MM-ddTHH:mm:ssZ}" : "")
            + (ClientCertificateExpires is { } client ? $", client certificate until {client:yyyy-MM-ddTHH:mm:ssZ}" : "");
    }
}
