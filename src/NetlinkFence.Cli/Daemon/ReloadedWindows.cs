using NetlinkFence.Policy;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// What a reload did to the windows open before it, said in the log and recorded in the window log as an open or a
/// close is: the window log is where an auditor reads when an update window let traffic through, and a reload that
/// closed one early (its entry is gone), made it permanent (no <c>window:</c> any more) or shortened it (a shorter
/// <c>window:</c>) changed that. A window the reload left as it was is not named.
/// </summary>
internal static class ReloadedWindows
{
    /// <summary>One change: the window log's verb, the entry, what happened.</summary>
    public readonly record struct Change(string Verb, string Entry, string Detail);

    /// <summary>The changes between the windows open <paramref name="before"/> and <paramref name="after"/> a reload to <paramref name="next"/>.</summary>
    public static List<Change> Between(IReadOnlyList<(string Entry, DateTimeOffset Until)> before, IReadOnlyList<(string Entry, DateTimeOffset Until)> after,
        EgressPolicy next, string why, DateTimeOffset now)
    {
        var changes = new List<Change>();
        foreach (var (entry, until) in before)
        {
            if (until <= now)
                continue; // closed on its own before the reload
            var stays = after.Where(w => w.Entry == entry).Select(w => (DateTimeOffset?)w.Until).FirstOrDefault();
            var nextEntry = next.Egress.FirstOrDefault(e => e.Name == entry);
            if (nextEntry is null)
                changes.Add(new("close", entry, $"closed by the reload ({why}): the policy has no entry '{entry}' now"));
            else if (nextEntry.Window is null)
                changes.Add(new("permanent", entry, $"no longer a window after the reload ({why}): '{entry}' has no 'window:' now, so the policy allows it at all times"));
            else if (stays is null)
                changes.Add(new("close", entry, $"closed by the reload ({why})"));
            // Whole seconds: the reload takes time itself, and a window it kept must not read as shortened.
            else if (stays.Value < until - TimeSpan.FromSeconds(1))
                changes.Add(new("shorten", entry, $"its window is {WindowDuration.Format(nextEntry.Window.Value)} after the reload ({why}): open "
                    + $"{WindowRecords.Seconds(stays.Value - now)} from now, where it had {WindowRecords.Seconds(until - now)} left"));
        }
        return changes;
    }
}
