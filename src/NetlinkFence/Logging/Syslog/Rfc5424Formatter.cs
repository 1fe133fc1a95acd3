using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace NetlinkFence.Logging.Syslog;

/// <summary>
/// Formats denial records as RFC 5424 messages in RFC 5425 frames (<c>MSG-LEN SP SYSLOG-MSG</c>, octet counting):
/// <c>&lt;PRI&gt;1 TIMESTAMP HOSTNAME netlinkfence PROCID DENIED [denial@PEN field="value" ...] text</c>.
/// </summary>
internal sealed class Rfc5424Formatter
{
    /// <summary>RFC 5424 6.2.4: HOSTNAME is at most 255 printable US-ASCII characters.</summary>
    private const int MaxHostName = 255;

    private readonly SyslogTlsOptions _options;
    private readonly string _hostName;
    private readonly string _procId;
    private readonly string _run;

    public Rfc5424Formatter(SyslogTlsOptions options, string run)
    {
        _options = options;
        _hostName = Header(options.HostName ?? System.Net.Dns.GetHostName(), MaxHostName);
        _procId = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        _run = run;
    }

    public string DenialId => "denial@" + _options.EnterpriseNumber.ToString(CultureInfo.InvariantCulture);

    public string DroppedId => "dropped@" + _options.EnterpriseNumber.ToString(CultureInfo.InvariantCulture);

    public string UnloggedId => "unlogged@" + _options.EnterpriseNumber.ToString(CultureInfo.InvariantCulture);

    public string LostId => "lost@" + _options.EnterpriseNumber.ToString(CultureInfo.InvariantCulture);

    public string HeartbeatId => "heartbeat@" + _options.EnterpriseNumber.ToString(CultureInfo.InvariantCulture);

    public string TestId => "test@" + _options.EnterpriseNumber.ToString(CultureInfo.InvariantCulture);

    public string WindowId => "window@" + _options.EnterpriseNumber.ToString(CultureInfo.InvariantCulture);

    /// <summary>A change to an update window (severity notice): <c>WINDOW [window@PEN verb entry uid table ...] text</c>.</summary>
    public byte[] Window(string verb, string entry, uint uid, string table, string detail, DateTimeOffset time, ulong sequence)
    {
        var sb = new StringBuilder(384);
        Header(sb, 5, time, "WINDOW");
        sb.Append('[').Append(WindowId);
        Param(sb, "run", _run);
        Param(sb, "seq", sequence);
        Param(sb, "host", _hostName);
        Param(sb, "verb", verb);
        Param(sb, "entry", entry);
        Param(sb, "uid", uid);
        Param(sb, "table", table);
        sb.Append("] ");
        int textStart = sb.Length;
        sb.Append(CultureInfo.InvariantCulture, $"{verb} {entry} (uid {uid}): {detail}");
        return Frame(sb, textStart);
    }

    /// <summary>One denial, framed. <paramref name="sequence"/> numbers the forwarder's messages: with the run id it names a message, so a resent one is recognised.</summary>
    public byte[] Denial(DenialRecord record, DenialContext? context, ulong sequence)
    {
        var sb = new StringBuilder(512);
        // Warning for a dropped packet; notice for an audit-mode record that was accepted.
        int severity = record.Verdict == "accept" ? 5 : 4;
        Header(sb, severity, record.Time, record.Verdict == "accept" ? "AUDIT" : "DENIED");
        sb.Append('[').Append(DenialId);
        Param(sb, "run", _run);
        Param(sb, "seq", sequence);
        Param(sb, "host", _hostName);
        Param(sb, "family", record.Family switch { AddressFamily.InterNetwork => "ipv4", AddressFamily.InterNetworkV6 => "ipv6", _ => null });
        Param(sb, "proto", Protocol(record.Protocol));
        Param(sb, "src", record.Source?.ToString());
        Param(sb, "sport", record.SourcePort);
        Param(sb, "dst", record.Destination?.ToString());
        Param(sb, "dport", record.DestinationPort);
        Param(sb, "dstname", context?.DestinationName);
        Param(sb, "icmptype", record.IcmpType);
        Param(sb, "icmpcode", record.IcmpCode);
        Param(sb, "uid", record.Uid);
        Param(sb, "gid", record.Gid);
        Param(sb, "user", record.UserName);
        Param(sb, "cgroupid", record.CgroupId);
        Param(sb, "cgroup", record.Cgroup ?? (record.CgroupLookedUp && record.CgroupId is null ? "unknown" : null));
        Param(sb, "unit", record.Unit);
        Param(sb, "in", record.InputInterface);
        Param(sb, "out", record.OutputInterface);
        Param(sb, "prefix", record.Prefix.Length == 0 ? null : record.Prefix);
        Param(sb, "chain", record.Chain);
        Param(sb, "verdict", record.Verdict);
        Param(sb, "nflogseq", record.Sequence);
        Param(sb, "len", (uint)record.PacketLength);
        if (record.Truncated)
            Param(sb, "truncated", "1");
        Param(sb, "entry", context?.Entry);
        Param(sb, "policy", context?.Origin);
        Param(sb, "reason", context?.Reason);
        sb.Append("] ");
        int textStart = sb.Length;
        Text(sb, record, context);
        return Frame(sb, textStart);
    }

    /// <summary>The report of records dropped because the queue was full.</summary>
    public byte[] Dropped(ulong count, DateTimeOffset first, DateTimeOffset last, int capacity, ulong sequence) =>
        CountReport("DROPPED", DroppedId, count, first, last, sequence, (uint)capacity,
            string.Create(CultureInfo.InvariantCulture, $"{count} denials were dropped: the forwarder's queue of {capacity} was full (collector unreachable or too slow) from {Timestamp(first)} to {Timestamp(last)}"));

    /// <summary>The report of denied packets over the policy's log.rate, which the kernel logged nowhere.</summary>
    public byte[] Unlogged(ulong count, DateTimeOffset from, DateTimeOffset to, ulong sequence) =>
        CountReport("UNLOGGED", UnloggedId, count, from, to, sequence, queue: null,
            string.Create(CultureInfo.InvariantCulture, $"{count} denied packets came over the policy's log.rate between {Timestamp(from)} and {Timestamp(to)}: the kernel logged none of them, so no DENIED message stands for them"));

    /// <summary>A check's message to one collector (severity notice): it stands for no denial.</summary>
    public byte[] Test(string collector, ulong sequence)
    {
        var sb = new StringBuilder(256);
        Header(sb, 5, DateTimeOffset.UtcNow, "TEST");
        sb.Append('[').Append(TestId);
        Param(sb, "run", _run);
        Param(sb, "seq", sequence);
        Param(sb, "host", _hostName);
        Param(sb, "collector", collector);
        sb.Append("] ");
        int textStart = sb.Length;
        sb.Append(CultureInfo.InvariantCulture, $"netlinkfence checks that {collector} receives this host's denials: a test, no denial");
        return Frame(sb, textStart);
    }

    /// <summary>
    /// That the forwarder is alive, and what it sent and dropped since it started (severity info). The next one comes
    /// within <paramref name="every"/> while it runs and reaches the collector.
    /// </summary>
    public byte[] Heartbeat(TimeSpan every, ulong sent, ulong dropped, int queued, ulong sequence, IReadOnlyList<KeyValuePair<string, string>>? state = null,
        string? collector = null, bool fallback = false)
    {
        var sb = new StringBuilder(256);
        Header(sb, 6, DateTimeOffset.UtcNow, "HEARTBEAT");
        sb.Append('[').Append(HeartbeatId);
        Param(sb, "run", _run);
        Param(sb, "seq", sequence);
        Param(sb, "host", _hostName);
        Param(sb, "every", (ulong)every.TotalSeconds);
        Param(sb, "sent", sent);
        Param(sb, "dropped", dropped);
        Param(sb, "queued", (ulong)queued);
        if (collector is not null)
        {
            Param(sb, "collector", collector);
            Param(sb, "fallback", fallback ? 1UL : 0UL);
        }
        foreach (var (name, value) in state ?? [])
            Param(sb, name, value);
        sb.Append("] ");
        int textStart = sb.Length;
        sb.Append(CultureInfo.InvariantCulture,
            $"netlinkfence forwards this host's denials; the next heartbeat comes within {(ulong)every.TotalSeconds} s: a longer silence means forwarding stopped, not that the host is quiet ({sent} messages sent, {dropped} denials dropped, {queued} queued)");
        return Frame(sb, textStart);
    }

    /// <summary>The report of denials the kernel logged that never reached the forwarder's queue, and where they were lost.</summary>
    public byte[] Lost(ulong count, DenialLoss where, DateTimeOffset from, DateTimeOffset to, ulong sequence) =>
        CountReport("LOST", LostId, count, from, to, sequence, queue: null,
            string.Create(CultureInfo.InvariantCulture, $"{count} denials the kernel logged between {Timestamp(from)} and {Timestamp(to)} were lost before they could be forwarded: {LossText(where)}, so no DENIED message stands for them"),
            where: where.WhereName());

    private static string LossText(DenialLoss where) => where switch
    {
        DenialLoss.KernelQueue => "the NFLOG socket's receive queue overflowed",
        DenialLoss.ReaderBuffer => "the reader's buffer was full (the forwarder fell behind)",
        _ => "no reader was bound to the NFLOG group",
    };

    /// <summary>A warning that counts denials no <c>DENIED</c> message stands for, between two times.</summary>
    private byte[] CountReport(string messageId, string id, ulong count, DateTimeOffset first, DateTimeOffset last, ulong sequence, uint? queue, string text,
        string? where = null)
    {
        var sb = new StringBuilder(256);
        Header(sb, 4, DateTimeOffset.UtcNow, messageId);
        sb.Append('[').Append(id);
        Param(sb, "run", _run);
        Param(sb, "seq", sequence);
        Param(sb, "host", _hostName);
        Param(sb, "count", count);
        Param(sb, "first", Timestamp(first));
        Param(sb, "last", Timestamp(last));
        Param(sb, "queue", queue);
        Param(sb, "where", where);
        sb.Append("] ");
        int textStart = sb.Length;
        sb.Append(text);
        return Frame(sb, textStart);
    }

    private void Header(StringBuilder sb, int severity, DateTimeOffset time, string messageId)
    {
        int pri = (int)_options.Facility * 8 + severity;
        sb.Append('<').Append(pri.ToString(CultureInfo.InvariantCulture)).Append(">1 ")
            .Append(Timestamp(time)).Append(' ')
            .Append(_hostName).Append(" netlinkfence ").Append(_procId).Append(' ').Append(messageId).Append(' ');
    }

    /// <summary>RFC 5424 TIMESTAMP: RFC 3339 in UTC with microseconds (at most 6 fraction digits).</summary>
    private static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static void Text(StringBuilder sb, DenialRecord record, DenialContext? context)
    {
        sb.Append(record.Prefix).Append(Protocol(record.Protocol) ?? "?").Append(' ')
            .Append(Endpoint(record.Source?.ToString(), record.SourcePort)).Append(" -> ")
            .Append(Endpoint(record.Destination?.ToString(), record.DestinationPort));
        if (record.IcmpType is { } type)
            sb.Append(CultureInfo.InvariantCulture, $" type {type} code {record.IcmpCode ?? 0}");
        if (record.Uid is { } uid)
            sb.Append(CultureInfo.InvariantCulture, $" uid={uid}").Append(record.UserName is null ? "" : $"({record.UserName})");
        if (record.Cgroup is { } cgroup)
            sb.Append(" cgroup=").Append(cgroup).Append(record.Unit is { } unit ? $" unit={unit}" : "");
        else if (record.CgroupLookedUp && record.CgroupId is null)
            sb.Append(" cgroup=unknown");
        if (context?.Reason is { } reason)
            sb.Append(": ").Append(reason);
    }

    private static string Endpoint(string? address, ushort? port) =>
        port is null ? address ?? "?" : address is not null && address.Contains(':') ? $"[{address}]:{port}" : $"{address ?? "?"}:{port}";

    private static string? Protocol(ProtocolType protocol) => protocol switch
    {
        ProtocolType.Tcp => "tcp",
        ProtocolType.Udp => "udp",
        ProtocolType.Icmp => "icmp",
        ProtocolType.IcmpV6 => "icmpv6",
        ProtocolType.Unspecified => null,
        _ => ((int)protocol).ToString(CultureInfo.InvariantCulture),
    };

    private static void Param(StringBuilder sb, string name, ulong? value)
    {
        if (value is { } v)
            sb.Append(' ').Append(name).Append("=\"").Append(v.ToString(CultureInfo.InvariantCulture)).Append('"');
    }

    /// <summary>An SD-PARAM; RFC 5424 6.3.3: '"', '\' and ']' in a value are escaped with '\'.</summary>
    /// <summary>RFC 5424 6.3.3: an SD-NAME is 1 to 32 printable US-ASCII characters except '=', SP, ']' and '"'.</summary>
    public static bool IsSdName(string name) =>
        name.Length is >= 1 and <= 32 && name.All(c => c is > ' ' and <= '~' and not '=' and not ']' and not '"');

    private static void Param(StringBuilder sb, string name, string? value)
    {
        if (value is null)
            return;
        sb.Append(' ').Append(name).Append("=\"");
        foreach (char c in value)
        {
            if (c is '"' or '\\' or ']')
                sb.Append('\\');
            sb.Append(char.IsControl(c) ? '?' : c);
        }
        sb.Append('"');
    }

    /// <summary>A header field (HOSTNAME): printable US-ASCII without spaces, or NILVALUE.</summary>
    private static string Header(string text, int max)
    {
        var sb = new StringBuilder(Math.Min(text.Length, max));
        foreach (char c in text)
        {
            if (sb.Length == max)
                break;
            sb.Append(c is > ' ' and < (char)127 ? c : '_');
        }
        return sb.Length == 0 ? "-" : sb.ToString();
    }

    /// <summary>RFC 5425 4.3: octet counting, <c>MSG-LEN SP SYSLOG-MSG</c> with MSG-LEN in bytes.</summary>
    private static byte[] Frame(StringBuilder sb, int textStart)
    {
        // MSG is UTF-8; RFC 5424 6.4 marks a UTF-8 MSG with a BOM, only needed when it is not plain ASCII.
        string message = sb.ToString();
        bool ascii = message.AsSpan(textStart).ContainsAnyExceptInRange((char)0x20, (char)0x7e) is false;
        if (!ascii)
            message = string.Concat(message.AsSpan(0, textStart), "\uFEFF", message.AsSpan(textStart));
        // Control characters never reach the wire (a newline would split the line for collectors that read lines).
        message = string.Create(message.Length, message, static (span, m) =>
        {
            for (int i = 0; i < m.Length; i++)
                span[i] = m[i] is < ' ' or (char)127 ? ' ' : m[i];
        });
        int length = Encoding.UTF8.GetByteCount(message);
        string prefix = length.ToString(CultureInfo.InvariantCulture) + " ";
        var frame = new byte[prefix.Length + length];
        Encoding.ASCII.GetBytes(prefix, frame);
        Encoding.UTF8.GetBytes(message, frame.AsSpan(prefix.Length));
        return frame;
    }
}
