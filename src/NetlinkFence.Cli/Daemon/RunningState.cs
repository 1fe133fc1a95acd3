using System.Net;
using NetlinkFence.Policy;
using NetlinkFence.Runtime;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// What a running policy holds beyond the policy file: open windows (until when) and the followed names' current
/// addresses (each until its TTL + grace). A watch-mode repair replaces the whole table, which would close the windows and
/// drop the addresses until the next refresh round; the daemon captures this before the replace and puts it back
/// right after, never longer than it was (a window at most its remaining time, an address at most its expiry).
/// </summary>
internal sealed record RunningState(
    IReadOnlyList<(string Entry, DateTimeOffset Until)> Windows,
    IReadOnlyList<(string Host, IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> Addresses)> Names)
{
    /// <summary>The open windows as the kernel has them now (a window longer than its entry allows is cut to it), and the refresher's answers.</summary>
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
            foreach (string host in names.Names)
                if (names.AddressesOf(host).Where(a => a.Expires > now).ToList() is { Count: > 0 } addresses)
                    answers.Add((host, addresses));
        return new RunningState(windows, answers);
    }

    /// <summary>
    /// Re-opens the windows for the time they had left and re-adds the names' addresses (one transaction each, through
    /// the live policy, which reads the replaced table first). A window whose time ran out meanwhile stays closed.
    /// </summary>
    public async Task RestoreAsync(LivePolicy live, Action<string> log, CancellationToken cancellationToken)
    {
        foreach (var (entry, until) in Windows)
        {
            var left = until - DateTimeOffset.UtcNow;
            if (left < TimeSpan.FromSeconds(1))
                continue;
            await live.OpenWindowAsync(entry, left, cancellationToken);
            log($"repair: window {entry} re-opened for the {left.TotalSeconds:0}s it had left");
        }
        if (Names.Count > 0)
        {
            await live.RefreshNamesAsync(Names, cancellationToken);
            log($"repair: the current addresses of {Names.Count} followed name(s) re-added with their expiry");
        }
    }
}
