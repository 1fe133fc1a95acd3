namespace NetlinkFence.Logging.Syslog;

/// <summary>
/// Where and how <see cref="SyslogTlsForwarder"/> sends denials: a syslog-over-TLS collector (RFC 5425, usually
/// TCP 6514) whose certificate must chain to <see cref="CaFile"/> and name <see cref="Host"/>.
/// </summary>
public sealed record SyslogTlsOptions
{
    /// <summary>The collector's address or host name; the server certificate must name it (IP or DNS subjectAltName).</summary>
    public required string Host { get; init; }

    /// <summary>The collector's TCP port (6514 is syslog over TLS).</summary>
    public int Port { get; init; } = 6514;

    /// <summary>
    /// Collectors to send to, in this order, while <see cref="Host"/> cannot be reached (each named by address or host
    /// name, which its certificate must carry, checked against the same <see cref="CaFile"/>). A connection to a
    /// fallback is kept until <see cref="FailbackAfter"/>; then the first collector is tried again, and taken back when
    /// it answers. Empty (the default): one collector.
    /// </summary>
    public IReadOnlyList<System.Net.DnsEndPoint> Fallbacks { get; init; } = [];

    /// <summary>
    /// How long denials go to a fallback before the first collector is tried again (default 5 minutes). The fallback's
    /// connection stays open during the attempt, and is closed only once the first collector has answered.
    /// </summary>
    public TimeSpan FailbackAfter { get; init; } = DefaultFailbackAfter;

    private static readonly TimeSpan DefaultFailbackAfter = TimeSpan.FromMinutes(5);

    /// <summary>PEM file with the CA certificate(s) that signed the collector's certificate: the only trust anchors (the system store is not used).</summary>
    public required string CaFile { get; init; }

    /// <summary>PEM client certificate, for collectors that authenticate senders (with <see cref="ClientKeyFile"/>).</summary>
    public string? ClientCertificateFile { get; init; }

    /// <summary>PEM private key of <see cref="ClientCertificateFile"/> (unencrypted PKCS#8, PKCS#1 or SEC1).</summary>
    public string? ClientKeyFile { get; init; }

    /// <summary>Most records held while the collector is unreachable (default 10,000); more are dropped, counted and reported.</summary>
    public int QueueCapacity { get; init; } = 10_000;

    /// <summary>The network namespace to connect from (a name under /run/netns or a path); null: the caller's.</summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>HOSTNAME of every message; null: this host's name.</summary>
    public string? HostName { get; init; }

    /// <summary>Facility of every message (default <see cref="SyslogFacility.AuthPriv"/>: denials are security audit events).</summary>
    public SyslogFacility Facility { get; init; } = SyslogFacility.AuthPriv;

    /// <summary>
    /// The private enterprise number in the structured-data ids (<c>denial@N</c>, <c>dropped@N</c>). The default, 32473,
    /// is the number IANA reserves for documentation (RFC 5612): set your organisation's own number.
    /// </summary>
    public int EnterpriseNumber { get; init; } = 32473;

    /// <summary>First wait before reconnecting after a failure; doubled on each failure up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan MinReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait between connection attempts.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a written record is kept for resending: a connection that breaks sends again every record written
    /// on it less than this long before (at-least-once; duplicates carry the same run and seq). The kernel aborts a
    /// connection whose data stays unacknowledged for two thirds of this (TCP_USER_TIMEOUT), so a record forgotten
    /// after it was at least acknowledged by the collector's TCP.
    /// </summary>
    public TimeSpan ResendWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait for a TCP connection and the TLS handshake.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often to tell the collector that this forwarder is alive (<c>HEARTBEAT</c>, <c>heartbeat@PEN</c> with what
    /// it sent and dropped so far): once when it starts, then every interval, denials or not; null (the default): never.
    /// A collector that misses a host's heartbeat for twice this knows the forwarder stopped, not that the host is quiet.
    /// The first heartbeat is the first message: denials wait for it while <see cref="HeartbeatState"/> is read (at most 5 s).
    /// </summary>
    public TimeSpan? Heartbeat { get; init; }

    /// <summary>
    /// What each heartbeat vouches for, read just before it is queued (at most 5 s; cancelled when the forwarder
    /// stops): structured-data parameters added to <c>heartbeat@PEN</c>, e.g. the daemon's <c>table</c>,
    /// <c>present</c>, <c>matches</c>, <c>owned</c> and <c>denied</c>. Names are RFC 5424 SD-NAMEs (1 to 32 printable
    /// ASCII characters, none of <c>= ] "</c> or space). A reading that fails or times out sends the heartbeat with
    /// <c>state="unreadable"</c> instead: the collector learns that the forwarder lives but could not say how the
    /// host is. Null: heartbeats carry the forwarder's own counts only.
    /// </summary>
    public Func<CancellationToken, Task<IReadOnlyList<KeyValuePair<string, string>>>>? HeartbeatState { get; init; }

    /// <summary>Connection events and errors (connected, lost, certificate refused, dropped), as sentences; called on the forwarder's task.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>The options a policy's <c>log.remote</c> names (the rest at their defaults; change them with <c>with</c>).</summary>
    public static SyslogTlsOptions FromPolicy(NetlinkFence.Policy.RemoteLogSettings remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        return new SyslogTlsOptions
        {
            Host = remote.Host,
            Port = remote.Port,
            CaFile = remote.CaFile,
            ClientCertificateFile = remote.CertificateFile,
            ClientKeyFile = remote.KeyFile,
            QueueCapacity = remote.Queue,
            Heartbeat = remote.Heartbeat,
            Fallbacks = remote.Fallbacks,
            FailbackAfter = remote.Failback ?? DefaultFailbackAfter,
        };
    }

    /// <summary><c>host:port</c> (<c>[v6]:port</c>), as in messages.</summary>
    public string Endpoint => NetlinkFence.Policy.RemoteLogSettings.EndpointText(Host, Port);
}
