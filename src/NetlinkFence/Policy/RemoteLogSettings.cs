using System.Net;

namespace NetlinkFence.Policy;

/// <summary>
/// <c>log.remote</c>: where denials are shipped, as syslog over TLS (RFC 5425): <c>{ tls: "192.168.1.20:6514",
/// ca: /etc/netlinkfence/ca.pem }</c>, with an optional client certificate and key and the queue size. The files
/// are read when the forwarder starts, not when the policy loads. With <c>heartbeat: 5m</c>, the collector hears
/// from the forwarder at least that often, denials or not. <c>tls:</c> may list collectors, the first preferred: the
/// others (<see cref="Fallbacks"/>) take the denials while it cannot be reached.
/// </summary>
public sealed record RemoteLogSettings
{
    /// <summary>Creates the settings; prefer <see cref="PolicyBuilder.RemoteLog"/> or the policy file.</summary>
    public RemoteLogSettings(string host, int port, string caFile, string? certificateFile = null, string? keyFile = null, int queue = DefaultQueue, SourceLocation? location = null)
    {
        Host = host;
        Port = port;
        CaFile = caFile;
        CertificateFile = certificateFile;
        KeyFile = keyFile;
        Queue = queue;
        Location = location ?? SourceLocation.Code;
    }

    /// <summary>Records held while the collector is unreachable when <c>queue:</c> is not given.</summary>
    public const int DefaultQueue = 10_000;

    /// <summary>The collector's address, or a host name (the address or name its certificate must carry).</summary>
    public string Host { get; }

    /// <summary>The collector's TCP port (usually 6514).</summary>
    public int Port { get; }

    /// <summary>Absolute path of the PEM CA file: the only trust anchor for the collector's certificate.</summary>
    public string CaFile { get; }

    /// <summary>Absolute path of the PEM client certificate (<c>cert:</c>), for collectors that authenticate senders.</summary>
    public string? CertificateFile { get; }

    /// <summary>Absolute path of the client certificate's PEM private key (<c>key:</c>).</summary>
    public string? KeyFile { get; }

    /// <summary>Most records held in memory while the collector is unreachable (<c>queue:</c>); more are dropped, counted and reported.</summary>
    public int Queue { get; }

    /// <summary>
    /// <c>heartbeat:</c> (10s to 24h), or null for none: how often the forwarder tells the collector it is alive
    /// (<c>HEARTBEAT</c>), so a collector can tell a quiet host from a forwarder that stopped: alert when a host's
    /// heartbeat is missing for longer than twice this.
    /// </summary>
    public TimeSpan? Heartbeat { get; init; }

    /// <summary>
    /// The other collectors <c>tls:</c> names after the first, in order: denials go to the first of them that answers
    /// while the first collector cannot be reached (same CA, client certificate and queue). Empty: one collector.
    /// </summary>
    public IReadOnlyList<DnsEndPoint> Fallbacks { get; init; } = [];

    /// <summary>
    /// <c>failback:</c> (30s to 24h): while a fallback takes the denials, how often the first collector is tried again;
    /// null: every 5 minutes (<see cref="Logging.Syslog.SyslogTlsOptions.FailbackAfter"/>'s default).
    /// </summary>
    public TimeSpan? Failback { get; init; }

    /// <summary>Every collector, the first (<see cref="Host"/>, <see cref="Port"/>) then the <see cref="Fallbacks"/>.</summary>
    public IReadOnlyList<DnsEndPoint> Collectors => [new DnsEndPoint(Host, Port), .. Fallbacks];

    /// <summary>Where <c>remote:</c> is written.</summary>
    public SourceLocation Location { get; }

    /// <summary><c>host:port</c> (<c>[v6]:port</c>) of the first collector.</summary>
    public string Endpoint => EndpointText(Host, Port);

    /// <summary><c>host:port</c> of <paramref name="collector"/>, an IPv6 address in brackets: how a collector is named in messages.</summary>
    public static string FormatEndpoint(DnsEndPoint collector)
    {
        ArgumentNullException.ThrowIfNull(collector);
        return EndpointText(collector.Host, collector.Port);
    }

    internal static string EndpointText(string host, int port) => host.Contains(':') ? $"[{host}]:{port}" : $"{host}:{port}";

    /// <summary>Equality ignores the location.</summary>
    public bool Equals(RemoteLogSettings? other) =>
        other is not null && Host == other.Host && Port == other.Port && CaFile == other.CaFile
        && CertificateFile == other.CertificateFile && KeyFile == other.KeyFile && Queue == other.Queue && Heartbeat == other.Heartbeat
        && Fallbacks.SequenceEqual(other.Fallbacks) && Failback == other.Failback;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Host, Port, CaFile);
}
