using System.Text.Json.Serialization;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// One request to the daemon's control socket: a JSON object, at most <see cref="ControlServer.MaxRequestBytes"/> bytes,
/// one per connection, e.g. <c>{"op":"open","name":"package-updates","for":"10m"}</c>.
/// </summary>
/// <param name="Op">open, close, status, reload, audit (<c>learn --audit</c> starts one) or audit-end.</param>
/// <param name="Name">The window entry (open, close).</param>
/// <param name="For">How long to open it (open; default: its <c>window:</c>), or how long the audit lasts (audit, required).</param>
internal sealed record ControlRequest(
    [property: JsonPropertyName("op")] string? Op,
    [property: JsonPropertyName("name")] string? Name = null,
    [property: JsonPropertyName("for")] string? For = null);

/// <summary>The daemon's answer: <see cref="Ok"/> with a message, or an error; status fields for <c>status</c>.</summary>
/// <remarks>
/// Fields this version does not know are skipped, not refused: a later daemon's answer (a package upgraded, the daemon
/// not yet restarted the other way round, a fleet's pinned CLI) still reads. Requests stay strict: a field the daemon
/// does not know may be a typo that would change what it does.
/// </remarks>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
internal sealed record ControlResponse
{
    [JsonPropertyName("ok")] public bool Ok { get; init; }

    /// <summary>What was done, or why not (one line, for the CLI to print).</summary>
    [JsonPropertyName("message")] public string Message { get; init; } = "";

    /// <summary>The exit code the CLI verb returns for this answer (see ExitCodes).</summary>
    [JsonPropertyName("exit")] public int Exit { get; init; }

    [JsonPropertyName("table")] public string? Table { get; init; }

    /// <summary>owner (the kernel enforces the daemon's ownership) or watch (changes by others are repaired).</summary>
    [JsonPropertyName("mode")] public string? Mode { get; init; }

    [JsonPropertyName("policy")] public string? Policy { get; init; }

    [JsonPropertyName("pid")] public int? Pid { get; init; }

    /// <summary>open: the window as the kernel now holds it; status: every window entry.</summary>
    [JsonPropertyName("windows")] public List<ControlWindow>? Windows { get; init; }

    /// <summary>close: whether the window was open (false: it was closed already, nothing was changed).</summary>
    [JsonPropertyName("was_open")] public bool? WasOpen { get; init; }

    /// <summary>status, audit: the table's active audit (it accepts what the policy denies), absent while it enforces.</summary>
    [JsonPropertyName("audit")] public ControlAudit? Audit { get; init; }

    /// <summary>status: how the daemon's denial forwarding is doing (absent: the policy has no <c>log.remote</c>, or an older daemon).</summary>
    [JsonPropertyName("forwarding")] public ForwardingHealth? Forwarding { get; init; }

    public static ControlResponse Error(string message, int exit = ExitCodes.BadInput) => new() { Ok = false, Message = message, Exit = exit };
}

/// <summary>One window entry's state.</summary>
/// <param name="Entry">The entry's name.</param>
/// <param name="Open">Whether the kernel lets its traffic through now.</param>
/// <param name="RemainingSeconds">Seconds before the kernel closes it (0 when closed).</param>
/// <param name="AlsoAllowedBy">Other entries whose elements let part of its traffic through (null: none, or an older daemon).</param>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
internal sealed record ControlWindow(
    [property: JsonPropertyName("entry")] string Entry,
    [property: JsonPropertyName("open")] bool Open,
    [property: JsonPropertyName("remaining_seconds")] double RemainingSeconds,
    [property: JsonPropertyName("also_allowed_by")] List<string>? AlsoAllowedBy = null);

/// <summary>An active audit, as the kernel counts it down.</summary>
/// <param name="Table">The table in audit mode.</param>
/// <param name="RemainingSeconds">Seconds before the kernel's timeout ends it (null: no timeout).</param>
/// <param name="Ends">When it ends.</param>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
internal sealed record ControlAudit(
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("remaining_seconds")] double? RemainingSeconds,
    [property: JsonPropertyName("ends")] DateTimeOffset? Ends);

/// <summary>Source-generated (reflection-free, NativeAOT-safe) JSON for the control protocol.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(ControlRequest))]
[JsonSerializable(typeof(ControlResponse))]
internal sealed partial class ControlJsonContext : JsonSerializerContext;
