using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NetlinkFence.Logging;

namespace NetlinkFence.Cli.Watch;

/// <summary>
/// <c>watch --summary 10s</c>: identical denials (protocol, source address, destination, destination port, uid,
/// cgroup) are counted, and every interval one line per group is printed, busiest first, with first and last seen:
/// <c>12 x udp 10.0.0.5 -> 162.159.200.1:123 uid=118(_chrony) cgroup=/system.slice/chrony.service unit=chrony.service first 06:40:01 last 06:40:09</c>.
/// The cgroup is the path (a restarted unit's new cgroup groups with the old one); denials whose socket was gone
/// (cgroup unknown) form their own group.
/// </summary>
internal sealed class DenialSummary(TextWriter output, bool json, TimeSpan interval, TimeProvider? clock = null) : IDenialSink
{
    private readonly record struct Key(ProtocolType Protocol, IPAddress? Source, IPAddress? Destination, ushort? Port, uint? Uid, string? Cgroup);

    private sealed class Group(DenialRecord first, DenialExplanation? explanation)
    {
        public DenialRecord First { get; } = first;
        public DenialExplanation? Explanation { get; } = explanation;
        public DateTimeOffset LastSeen { get; set; } = first.Time;
        public int Count { get; set; } = 1;
    }

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Dictionary<Key, Group> _groups = [];
    private long _nextPrint = -1;

    public async ValueTask WriteAsync(DenialRecord record, DenialExplanation? explanation, CancellationToken cancellationToken)
    {
        var key = new Key(record.Protocol, record.Source, record.Destination, record.DestinationPort, record.Uid, DenialText.Cgroup(record));
        if (_groups.TryGetValue(key, out var group))
        {
            group.Count++;
            if (record.Time > group.LastSeen)
                group.LastSeen = record.Time;
        }
        else
            _groups[key] = new Group(record, explanation);
        await TickAsync(cancellationToken);
    }

    /// <summary>Prints and clears the groups when the interval has passed (the verb also calls this on a timer).</summary>
    public ValueTask TickAsync(CancellationToken cancellationToken)
    {
        long now = _clock.GetTimestamp();
        if (_nextPrint < 0)
            _nextPrint = now + (long)(interval.TotalSeconds * _clock.TimestampFrequency);
        else if (now >= _nextPrint)
        {
            Flush();
            _nextPrint = now + (long)(interval.TotalSeconds * _clock.TimestampFrequency);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask LostAsync(long lostInKernel, long droppedSlowConsumer, CancellationToken cancellationToken)
    {
        output.WriteLine(json
            ? Output.JsonLine(new LostLine(lostInKernel + droppedSlowConsumer, lostInKernel, droppedSlowConsumer), WatchJsonContext.Default.LostLine)
            : DenialPrinter.LostText(lostInKernel, droppedSlowConsumer));
        output.Flush();
        return ValueTask.CompletedTask;
    }

    public ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        Flush();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private void Flush()
    {
        foreach (var group in _groups.Values.OrderByDescending(g => g.Count).ThenBy(g => g.First.Time))
            output.WriteLine(json ? Json(group) : Text(group));
        output.Flush();
        _groups.Clear();
    }

    private static string Text(Group group)
    {
        var r = group.First;
        string name = group.Explanation?.DestinationName is { } n ? $" ({n})" : "";
        string user = DenialText.User(r) is { Length: > 0 } u ? " " + u : "";
        if (DenialText.Cgroup(r) is { Length: > 0 } cgroup)
            user += " " + cgroup;
        string reason = group.Explanation is { } e ? " -- " + e.Reason : "";
        return $"{group.Count} x {DenialText.Flow(r)}{name}{user} first {Clock(r.Time)} last {Clock(group.LastSeen)}{reason}";
    }

    private static string Clock(DateTimeOffset time) => time.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Json(Group group)
    {
        var r = group.First;
        return Output.JsonLine(new SummaryLine(group.Count, DenialText.Protocol(r), r.Source?.ToString(), r.Destination?.ToString(),
            r.DestinationPort, group.Explanation?.DestinationName, r.Uid, r.UserName, r.Cgroup, r.Unit, r.Time, group.LastSeen, group.Explanation?.Reason),
            WatchJsonContext.Default.SummaryLine);
    }
}
