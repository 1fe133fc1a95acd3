using System.Globalization;
using System.Net.Sockets;
using NetlinkFence.Logging;

namespace NetlinkFence.Cli.Watch;

/// <summary>One line per denial on standard output: text, or a JSON object per line.</summary>
internal sealed class DenialPrinter(TextWriter output, bool json) : IDenialSink
{
    public ValueTask WriteAsync(DenialRecord record, DenialExplanation? explanation, CancellationToken cancellationToken)
    {
        output.WriteLine(json ? Json(record, explanation) : Text(record, explanation));
        output.Flush();
        return ValueTask.CompletedTask;
    }

    public ValueTask LostAsync(long lostInKernel, long droppedSlowConsumer, CancellationToken cancellationToken)
    {
        output.WriteLine(json
            ? Output.JsonLine(new LostLine(lostInKernel + droppedSlowConsumer, lostInKernel, droppedSlowConsumer), WatchJsonContext.Default.LostLine)
            : LostText(lostInKernel, droppedSlowConsumer));
        output.Flush();
        return ValueTask.CompletedTask;
    }

    public ValueTask CompleteAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary><c>N denials lost (M in the kernel: its queue overflowed; K dropped: watch fell behind)</c>.</summary>
    public static string LostText(long lostInKernel, long droppedSlowConsumer)
    {
        var parts = new List<string>();
        if (lostInKernel > 0)
            parts.Add($"{lostInKernel} in the kernel: the socket's queue overflowed");
        if (droppedSlowConsumer > 0)
            parts.Add($"{droppedSlowConsumer} dropped: the output fell behind");
        return $"{lostInKernel + droppedSlowConsumer} denials lost ({string.Join("; ", parts)})";
    }

    /// <summary><c>2026-12-02T06:40:01.123Z egress_denied udp 203.0.113.2:41234 -> 198.51.100.7:123 uid=118(_chrony) cgroup=/system.slice/chrony.service unit=chrony.service out=veth0 -- no entry allows 198.51.100.7</c>.</summary>
    private static string Text(DenialRecord record, DenialExplanation? explanation)
    {
        var line = new System.Text.StringBuilder();
        line.Append(record.Time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
        line.Append(' ').Append(record.Chain ?? "denied");
        line.Append(' ').Append(DenialText.Protocol(record)).Append(' ')
            .Append(DenialText.Endpoint(record.Source, record.SourcePort)).Append(" -> ").Append(DenialText.Endpoint(record.Destination, record.DestinationPort));
        if (explanation?.DestinationName is { } name)
            line.Append(" (").Append(name).Append(')');
        if (record.IcmpType is { } type)
            line.Append(" type ").Append(type).Append('/').Append(record.IcmpCode);
        if (DenialText.User(record) is { Length: > 0 } user)
            line.Append(' ').Append(user);
        if (DenialText.Cgroup(record) is { Length: > 0 } cgroup)
            line.Append(' ').Append(cgroup);
        if (record.InputInterface is { } input)
            line.Append(" in=").Append(input);
        if (record.OutputInterface is { } outputInterface)
            line.Append(" out=").Append(outputInterface);
        if (record.Truncated)
            line.Append(" (truncated)");
        if (explanation is not null)
            line.Append(" -- ").Append(explanation.Reason);
        return line.ToString();
    }

    private static string Json(DenialRecord record, DenialExplanation? explanation) => Output.JsonLine(new DenialLine(
        record.Time, record.Chain,
        record.Family switch { AddressFamily.InterNetwork => "ipv4", AddressFamily.InterNetworkV6 => "ipv6", _ => "unknown" },
        DenialText.Protocol(record), record.Source?.ToString(), record.SourcePort, record.Destination?.ToString(), record.DestinationPort,
        explanation?.DestinationName, record.IcmpType, record.IcmpCode, record.Uid, record.Gid, record.UserName,
        record.CgroupId, record.Cgroup, record.Unit, record.CgroupLookedUp && record.CgroupId is null ? true : null,
        record.InputInterface, record.OutputInterface, record.Prefix, record.Verdict, record.Sequence, record.PacketLength,
        record.Truncated, explanation?.Reason), WatchJsonContext.Default.DenialLine);
}
