using System.Net;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Runtime;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// What a running policy holds beyond the policy file: open windows (until when) and the followed names' current
/// addresses (each until its TTL + grace). A watch-mode repair replaces the whole table; the daemon captures this before
/// and the replace carries it (<see cref="LivePolicy.RestoreAsync"/>, one transaction), never longer than it was (a
/// window at most its remaining time, an address at most its expiry).
/// </summary>
internal sealed record RunningState(
    IReadOnlyList<(string Entry, DateTimeOffset Until)> Windows,
    IReadOnlyList<(string Host, IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> Addresses)> Names)
{
    /// <summary>
    /// The windows this daemon opened (<see cref="LivePolicy.OpenedWindows"/>: never one another writer put in the
    /// kernel), and the refresher's answers: every name answered since it started, with its live addresses (none when
    /// all expired).
    /// </summary>
    public static RunningState Capture(LivePolicy live, DnsRefresher? names)
    {
        var now = DateTimeOffset.UtcNow;
        var answers = new List<(string, IReadOnlyList<(IPAddress, DateTimeOffset)>)>();
        if (names is not null)
            foreach (string host in names.Names.Where(names.HasAnswered))
                answers.Add((host, names.AddressesOf(host).Where(a => a.Expires > now).ToList()));
        return new RunningState(live.OpenedWindows, answers);
    }

    /// <summary>
    /// The windows the kernel holds open that this daemon did not open, or holds open for longer than it did: another
    /// writer's elements, drift even where the running-policy check accepts them as a window (in time and place).
    /// Read from <paramref name="contents"/>, the listing the repair compares (null: the table is gone).
    /// </summary>
    public static IReadOnlyList<TableDifference> ForeignWindows(LivePolicy live, TableContents? contents)
    {
        if (contents is null)
            return []; // the table is gone: the comparison with the policy says so
        var listed = live.Windows(contents);
        var now = DateTimeOffset.UtcNow;
        var opened = live.OpenedWindows.ToDictionary(w => w.Entry, w => w.Until, StringComparer.Ordinal);
        return listed.Where(w => w.Remaining is { } left && (!opened.TryGetValue(w.Entry.Name, out var until) || now + left > until + Slack))
            .Select(w => new TableDifference(DifferenceKind.Added, $"window {w.Entry.Name}",
                $"open for {w.Remaining!.Value.TotalSeconds:0}s in the kernel, {(opened.ContainsKey(w.Entry.Name) ? "longer than" : "not")} opened by this daemon"))
            .ToList();
    }

    /// <summary>Timeouts count in milliseconds and clocks tick: a window may read back this much longer than recorded.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(2);

    /// <summary>What a repair keeps, for the log: "window mirror open for the 598s it had left; 1 followed name(s) with ...".</summary>
    public string Describe(DateTimeOffset now) =>
        Windows.Count + Names.Count == 0 ? "no open window and no followed name"
        : string.Join("; ", Windows.Select(w => $"window {w.Entry} open for the {Math.Max(0, (w.Until - now).TotalSeconds):0}s it had left")
            .Concat(Names.Count == 0 ? [] : [$"{Names.Count} followed name(s) with their {Names.Sum(n => n.Addresses.Count)} current address(es)"]));
}
