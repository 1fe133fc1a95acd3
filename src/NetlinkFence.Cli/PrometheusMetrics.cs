using System.Globalization;
using System.Text;
using NetlinkFence.Cli.Daemon;
using NetlinkFence.Logging.Syslog;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// The Prometheus text exposition format (0.0.4) of <see cref="TableMetrics"/>, for node_exporter's textfile collector
/// on each host of a fleet: each family's HELP and TYPE once, then its samples; label values escaped.
/// </summary>
internal static class PrometheusMetrics
{
    /// <summary>Mode 0644 whatever the umask (the unit's is 0077): node_exporter reads the file as its own user.</summary>
    private const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>
    /// Writes <paramref name="metrics"/> (and, from the daemon, how its denial forwarding is doing) to
    /// <paramref name="file"/>, replaced whole; <c>-</c> is standard output.
    /// </summary>
    public static void Write(string file, TableMetrics metrics, ForwardingHealth? forwarding = null)
    {
        string text = Render(metrics) + (forwarding is null ? "" : Render(metrics.Table, forwarding));
        if (file == "-")
            Console.Out.Write(text);
        else
            AtomicFile.Write(file, text, Readable);
    }

    public static string Render(TableMetrics metrics)
    {
        var text = new StringBuilder();
        string table = $"table=\"{Escape(metrics.Table)}\"";
        Family(text, "netlinkfence_table_present", "gauge",
            "1 when the policy's table is in the kernel; 0: netlinkfence filters nothing in this namespace",
            [($"{{{table}}}", metrics.Present ? "1" : "0")]);
        Family(text, "netlinkfence_audit_active", "gauge",
            "1 while 'learn --audit' makes the table accept (and log) what the policy denies",
            [($"{{{table}}}", metrics.Audit is null ? "0" : "1")]);
        if (!metrics.Present)
            return text.ToString();
        Family(text, "netlinkfence_table_owned", "gauge",
            "1 while a process owns the table (the daemon, 'netlinkfence run'): the kernel refuses other processes' changes and 'nft flush ruleset' skips it; 0: any root process may change or delete it",
            [($"{{{table}}}", metrics.Owned ? "1" : "0")]);
        Family(text, "netlinkfence_table_info", "gauge",
            "always 1: applied_by is the build that applied the table (empty when it names none), build the one reporting; they differ on a host upgraded since its last apply",
            [($"{{{table},applied_by=\"{Escape(metrics.AppliedBy ?? "")}\",build=\"{Escape(PolicyCompiler.TableComment)}\"}}", "1")]);
        if (metrics.MatchesPolicy is { } matches)
            Family(text, "netlinkfence_table_matches_policy", "gauge",
                "1 when the table is the policy's as 'netlinkfence verify' judges it (its own open windows and followed names aside); 0: drift, run verify",
                [($"{{{table}}}", matches ? "1" : "0")]);

        var entries = metrics.Entries.Select(e => ($"{{{table},direction=\"{(e.Input ? "input" : "egress")}\",entry=\"{Escape(e.Entry.Name)}\"}}", e)).ToList();
        Family(text, "netlinkfence_allow_packets_total", "counter",
            "packets an allow entry let through (its set elements' counters; an apply that replaces the table starts them again)",
            entries.Select(e => (e.Item1, Number(e.e.Packets))));
        Family(text, "netlinkfence_allow_bytes_total", "counter", "bytes an allow entry let through",
            entries.Select(e => (e.Item1, Number(e.e.Bytes))));
        Family(text, "netlinkfence_allow_elements", "gauge",
            "set elements that let an allow entry's traffic through now; 0: it allows nothing (a closed window, or DNS names whose addresses all expired)",
            entries.Select(e => (e.Item1, e.e.Elements.ToString(CultureInfo.InvariantCulture))));
        var denied = metrics.Denied.Select(d => ($"{{{table},chain=\"{Escape(d.Chain)}\"}}", d)).ToList();
        Family(text, "netlinkfence_denied_packets_total", "counter", "packets a denied chain dropped (or rejected, egress.deny: reject), logged or not",
            denied.Select(d => (d.Item1, Number(d.d.Packets))));
        Family(text, "netlinkfence_denied_bytes_total", "counter", "bytes a denied chain dropped (or rejected)",
            denied.Select(d => (d.Item1, Number(d.d.Bytes))));
        Family(text, "netlinkfence_denied_logged_packets_total", "counter",
            "packets a denied chain logged (kernel log and NFLOG); below netlinkfence_denied_packets_total by the packets that came over log.rate and are in no log",
            denied.Where(d => d.d.Logged is not null).Select(d => (d.Item1, Number(d.d.Logged!.Value))));
        var windows = metrics.Windows.Select(w => ($"{{{table},entry=\"{Escape(w.Entry.Name)}\"}}", w)).ToList();
        Family(text, "netlinkfence_window_open", "gauge", "1 while a window entry is open",
            windows.Select(w => (w.Item1, w.w.IsOpen ? "1" : "0")));
        Family(text, "netlinkfence_window_remaining_seconds", "gauge", "seconds before the kernel closes a window entry (0 when closed)",
            windows.Select(w => (w.Item1, Seconds(w.w.Remaining ?? TimeSpan.Zero))));
        return text.ToString();
    }

    /// <summary>
    /// The daemon's denial forwarding (<c>log.remote</c>): alert on <c>netlinkfence_forward_connected == 0</c> for a few
    /// minutes, and on any increase of the dropped and lost counters, which count denials the collector never got.
    /// </summary>
    public static string Render(string table, ForwardingHealth forwarding)
    {
        var text = new StringBuilder();
        string labels = $"{{table=\"{Escape(table)}\",collector=\"{Escape(forwarding.Collector)}\"}}";
        Family(text, "netlinkfence_forward_connected", "gauge",
            "1 while the daemon has a verified TLS connection to the log.remote collector; 0: denials wait in the queue, and past it are dropped and counted",
            [(labels, forwarding.Connected ? "1" : "0")]);
        Family(text, "netlinkfence_forward_on_fallback", "gauge",
            "1 while denials go to a fallback collector (log.remote tls: after the first) because the first cannot be reached; it is tried again every log.remote failback interval (5 minutes unless set)",
            [(labels, forwarding.OnFallback ? "1" : "0")]);
        Family(text, "netlinkfence_forward_queued_messages", "gauge", "messages waiting to be written to the collector",
            [(labels, forwarding.Queued.ToString(CultureInfo.InvariantCulture))]);
        Family(text, "netlinkfence_forward_sent_messages_total", "counter",
            "messages written to the collector (denials, resends after a broken connection, the DROPPED, UNLOGGED and LOST reports and the heartbeats)",
            [(labels, Number(forwarding.Sent))]);
        Family(text, "netlinkfence_forward_dropped_total", "counter",
            "denials dropped because the queue was full (the collector gets a DROPPED report with the count when it is reached again)",
            [(labels, Number(forwarding.DroppedQueueFull))]);
        string Where(DenialLoss loss) => $"{labels[..^1]},where=\"{loss.WhereName()}\"}}";
        Family(text, "netlinkfence_forward_lost_total", "counter",
            "denials the kernel logged that never reached the forwarder: kernel (the NFLOG socket's queue overflowed), reader (the forwarder fell behind the reader's buffer), unbound (logged while no reader was bound, after a reader failed)",
            [(Where(DenialLoss.KernelQueue), Number(forwarding.LostInKernel)), (Where(DenialLoss.ReaderBuffer), Number(forwarding.LostInReader)), (Where(DenialLoss.NoReader), Number(forwarding.LostUnbound))]);
        Family(text, "netlinkfence_forward_reader_restarts_total", "counter", "times the daemon bound the NFLOG group again after its reader failed or ended",
            [(labels, Number(forwarding.ReaderRestarts))]);
        string Which(string which) => $"{labels[..^1]},certificate=\"{which}\"}}";
        var expiries = new List<(string, string)>();
        if (forwarding.CollectorCertificateExpires is { } collector)
            expiries.Add((Which("collector"), collector.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));
        if (forwarding.ClientCertificateExpires is { } client)
            expiries.Add((Which("client"), client.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));
        if (expiries.Count > 0) // known once a connection was verified
            Family(text, "netlinkfence_forward_certificate_expiry_timestamp_seconds", "gauge",
                "when the collector's certificate (as last verified) and the client certificate (as last presented) stop being valid, in seconds since the epoch: forwarding stops then",
                expiries);
        return text.ToString();
    }

    private static void Family(StringBuilder text, string name, string type, string help, IEnumerable<(string Labels, string Value)> samples)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        foreach (var (labels, value) in samples)
            text.Append(name).Append(labels).Append(' ').Append(value).Append('\n');
    }

    private static string Number(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan value) => Math.Round(value.TotalSeconds, 3).ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>A label value as the format wants it: backslash, double quote and line feed escaped.</summary>
    internal static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
