using System.Globalization;

using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli.Watch;

/// <summary>
/// What the heartbeats of the daemon and <c>watch --forward</c> vouch for (<c>log.remote.heartbeat</c>): the table as
/// the kernel holds it, so a collector has every host's state at each interval, not only that its forwarder lives. Parameters of
/// <c>heartbeat@PEN</c>: <c>table</c>; <c>present</c>, <c>matches</c> (the policy's, as <c>verify</c> judges it),
/// <c>owned</c> and <c>audit</c> as 1 or 0; <c>windowsopen</c>; <c>denied</c> (what the denied chains dropped) and,
/// when the table counts it, <c>logged</c> (of those, what reached the log); <c>build</c>, the netlinkfence sending it,
/// and <c>appliedby</c>, the build the table names (absent when it names none): they differ on a host upgraded since its
/// last apply. The counts start again when the table is replaced (a reload).
/// </summary>
internal static class HeartbeatState
{
    /// <summary>
    /// Reads the table of <paramref name="policy"/> in <paramref name="netns"/> on a connection of its own (a heartbeat
    /// comes at most every 10 s): for <c>watch --forward</c>, which makes no changes to read between.
    /// </summary>
    public static async Task<IReadOnlyList<KeyValuePair<string, string>>> ReadAsync(CompiledPolicy policy, string? netns, CancellationToken cancellationToken)
    {
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = netns }, cancellationToken);
        return Of(await TableMetrics.ReadAsync(nft, policy, cancellationToken));
    }

    public static IReadOnlyList<KeyValuePair<string, string>> Of(TableMetrics table)
    {
        var state = new List<KeyValuePair<string, string>>
        {
            new("table", table.Table),
            new("present", Flag(table.Present)),
            new("matches", Flag(table.MatchesPolicy == true)),
            new("owned", Flag(table.Owned)),
            new("audit", Flag(table.Audit is not null)),
            new("windowsopen", Number((ulong)table.Windows.Count(w => w.IsOpen))),
            new("denied", Number(table.Denied.Aggregate(0UL, (sum, d) => sum + d.Packets))),
        };
        if (table.Denied.All(d => d.Logged is not null))
            state.Add(new("logged", Number(table.Denied.Aggregate(0UL, (sum, d) => sum + d.Logged!.Value))));
        state.Add(new("build", PolicyCompiler.TableComment));
        if (table.AppliedBy is { } appliedBy)
            state.Add(new("appliedby", appliedBy));
        return state;
    }

    private static string Flag(bool value) => value ? "1" : "0";

    private static string Number(ulong value) => value.ToString(CultureInfo.InvariantCulture);
}
