using System.Net;
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
    /// The open windows as the kernel has them now (a window longer than its entry allows is cut to it), and the
    /// refresher's answers: every name answered since it started, with its live addresses (none when all expired).
    /// </summary>
    public static async Task<RunningState> CaptureAsync(LivePolicy live, DnsRefresher? names, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var windows = new List<(string, DateTimeOffset)>();
        IReadOnlyList<LiveWindow> listed;
        try
        {
            listed = await live.WindowsAsync(cancellationToken);
        }
        catch (LivePolicyException)
        {
            listed = []; // the table was deleted: no window is open, and the repair must go on
        }
        foreach (var window in listed)
            if (window.Remaining is { } left && window.Entry.Window is { } longest)
                windows.Add((window.Entry.Name, now + (left < longest ? left : longest)));
        var answers = new List<(string, IReadOnlyList<(IPAddress, DateTimeOffset)>)>();
        if (names is not null)
            foreach (string host in names.Names.Where(names.HasAnswered))
                answers.Add((host, names.AddressesOf(host).Where(a => a.Expires > now).ToList()));
        return new RunningState(windows, answers);
    }

    /// <summary>What a repair keeps, for the log: "window mirror open for the 598s it had left; 1 followed name(s) with ...".</summary>
    public string Describe(DateTimeOffset now) =>
        Windows.Count + Names.Count == 0 ? "no open window and no followed name"
        : string.Join("; ", Windows.Select(w => $"window {w.Entry} open for the {Math.Max(0, (w.Until - now).TotalSeconds):0}s it had left")
            .Concat(Names.Count == 0 ? [] : [$"{Names.Count} followed name(s) with their {Names.Sum(n => n.Addresses.Count)} current address(es)"]));
}
