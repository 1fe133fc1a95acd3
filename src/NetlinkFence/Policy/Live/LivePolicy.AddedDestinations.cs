using System.Net;
using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Policy;

public sealed partial class LivePolicy
{
    /// <summary>A destination this object added with <see cref="AddDestinationAsync"/>, until its timeout (null: until removed).</summary>
    private readonly record struct AddedDestination(string Entry, IPNetwork Network, DateTimeOffset? Until);

    // What this object added and has not removed: what a restore puts back. The kernel's elements cannot say who added
    // them, and a restore must not keep another writer's. Changed only with the gate held (in onCommitted callbacks).
    private readonly List<AddedDestination> _added = [];

    /// <summary>Records a committed <see cref="AddDestinationAsync"/>, and forgets what has expired.</summary>
    private void RecordAdded(string entry, IPNetwork network, DateTimeOffset? until)
    {
        var now = _time.GetUtcNow();
        _added.RemoveAll(a => a.Until <= now);
        _added.Add(new(entry, network, until));
    }

    /// <summary>Records a committed <see cref="RemoveDestinationAsync"/>: it removed every grant of the entry that overlaps <paramref name="network"/>.</summary>
    private void RecordRemoved(string entry, IPNetwork network) =>
        _added.RemoveAll(a => a.Entry == entry && AddressMath.Overlap(a.Network, network));

    /// <summary>
    /// Keeps through a reload to <paramref name="next"/> what the reload kept: timed grants of an entry that is still a
    /// plain entry with the same ports and scopes. A reload drops permanent added destinations, so a restore must too.
    /// </summary>
    private void KeepAddedThrough(ResolvedPolicy next, DateTimeOffset now)
    {
        var before = _policy.Policy.Egress.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var after = next.Policy.Egress.Where(e => e.Window is null).ToDictionary(e => e.Name, StringComparer.Ordinal);
        _added.RemoveAll(a => a.Until is not { } until || until <= now
            || !after.TryGetValue(a.Entry, out var entry) || !before.TryGetValue(a.Entry, out var was)
            || !entry.Tcp.SequenceEqual(was.Tcp) || !entry.Udp.SequenceEqual(was.Udp) || !entry.By.SequenceEqual(was.By));
    }

    /// <summary>The added destinations not yet expired at <paramref name="now"/>, planned as the entry's grants (its current scopes).</summary>
    private IEnumerable<SetChange> AddedPlan(DateTimeOffset now)
    {
        foreach (var added in _added)
        {
            if (added.Until <= now || _policy.Policy.Egress.FirstOrDefault(e => e.Name == added.Entry) is not { } entry)
                continue;
            yield return new SetChange(added.Network.BaseAddress.AddressFamily, PortGrants(_policy, entry, added.Network, added.Until), []);
        }
    }
}
