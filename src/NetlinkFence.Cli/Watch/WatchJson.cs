using System.Text.Json.Serialization;

namespace NetlinkFence.Cli.Watch;

/// <summary>
/// One JSON line of <c>watch --output json</c>: a denial. <c>cgroup_id</c>/<c>cgroup</c>/<c>unit</c> name the sending
/// socket's cgroup; <c>cgroup_unknown: true</c> says the socket was closed before it could be looked up.
/// </summary>
internal sealed record DenialLine(
    DateTimeOffset Time, string? Chain, string Family, string Protocol, string? Source, ushort? SourcePort,
    string? Destination, ushort? DestinationPort, string? DestinationName, byte? IcmpType, byte? IcmpCode,
    uint? Uid, uint? Gid, string? User, ulong? CgroupId, string? Cgroup, string? Unit, bool? CgroupUnknown, string? InputInterface, string? OutputInterface, string Prefix, string Verdict,
    uint? Sequence, int Length, bool Truncated, string? Reason);

/// <summary>One JSON line of <c>watch --summary</c>: identical denials aggregated over the interval.</summary>
internal sealed record SummaryLine(
    int Count, string Protocol, string? Source, string? Destination, ushort? DestinationPort, string? DestinationName,
    uint? Uid, string? User, string? Cgroup, string? Unit, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, string? Reason);

/// <summary>A JSON line saying denials were lost, and where.</summary>
internal sealed record LostLine(long Lost, long LostInKernel, long DroppedSlowConsumer);

/// <summary>Source-generated serialization for <c>watch</c>'s JSON lines: no reflection, AOT-safe; snake_case keys, as every verb's JSON.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DenialLine))]
[JsonSerializable(typeof(SummaryLine))]
[JsonSerializable(typeof(LostLine))]
internal sealed partial class WatchJsonContext : JsonSerializerContext;
