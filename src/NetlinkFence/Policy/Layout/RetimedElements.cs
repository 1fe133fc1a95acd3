using NetlinkFence.Nftables;

namespace NetlinkFence.Policy.Layout;

/// <summary>
/// Elements a set holds, each with the timeout it moves to (<see cref="ElementDelta.Refresh"/>). The elements are
/// the ones last made for their boxes, whose own timeouts are stale: the new timeout is kept beside each, so a refresh
/// round of thousands of addresses copies no element. An <see cref="AllowSetModel"/> reuses one for every change.
/// </summary>
internal sealed class RetimedElements
{
    private readonly List<SetElement> _elements = [];
    private readonly List<TimeSpan> _timeouts = [];

    /// <summary>The elements, as last made (their own timeout is not the one sent).</summary>
    public IReadOnlyList<SetElement> Elements => _elements;

    /// <summary>Element i's new timeout, sent as its timeout and its time left.</summary>
    public IReadOnlyList<TimeSpan> Timeouts => _timeouts;

    public int Count => _elements.Count;

    public void Add(SetElement element, TimeSpan timeout)
    {
        _elements.Add(element);
        _timeouts.Add(timeout);
    }

    public void Clear()
    {
        _elements.Clear();
        _timeouts.Clear();
    }
}
