namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// The windows the daemon's table holds open, and when each ends, so that the end the kernel enforces is recorded too
/// (an <c>expire</c> in the window log): it is the most common way a window closes, and the one no command asks for.
/// After each change it makes, the daemon passes the windows open now (<see cref="Changed"/>): a window missing from
/// them whose end came before the change began had run out on its own; one missing earlier was closed by that change,
/// which recorded it itself (a <c>close</c>, a reload's <c>close</c>). Not thread-safe: used under the daemon's change lock.
/// </summary>
internal sealed class WindowExpiries
{
    private readonly Dictionary<string, DateTimeOffset> _open = new(StringComparer.Ordinal);
    private readonly List<(string Entry, DateTimeOffset Until)> _ranOut = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next <see cref="Changed"/> (a window opened, moved or closed: the next end may differ).</summary>
    public Task WhenChanged => _changed.Task;

    /// <summary>The earliest end not yet past and recorded; null when no window is open.</summary>
    public DateTimeOffset? NextEnd => _open.Count == 0 ? null : _open.Values.Min();

    /// <summary>
    /// The windows open after a change that began at <paramref name="changeBegan"/>. A window that ended before then ran
    /// out on its own (it is due, also when this change opened it again: that is a new opening); one that had time left
    /// and is not among them was closed by the change.
    /// </summary>
    public void Changed(IReadOnlyList<(string Entry, DateTimeOffset Until)> openNow, DateTimeOffset changeBegan)
    {
        foreach (var (entry, until) in _open)
            if (until <= changeBegan)
                _ranOut.Add((entry, until));
        _open.Clear();
        foreach (var (entry, until) in openNow)
            _open[entry] = until;
        Wake();
    }

    /// <summary>Completes <see cref="WhenChanged"/>: an end the loop waits for moved (a window's, or the daemon's audit).</summary>
    public void Wake()
    {
        var changed = _changed;
        _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    /// <summary>The windows whose end is at or before <paramref name="now"/>, each once: no longer watched.</summary>
    public List<(string Entry, DateTimeOffset Until)> TakeDue(DateTimeOffset now)
    {
        var due = new List<(string Entry, DateTimeOffset Until)>(_ranOut);
        _ranOut.Clear();
        foreach (var (entry, until) in _open.Where(w => w.Value <= now).ToList())
        {
            due.Add((entry, until));
            _open.Remove(entry);
        }
        return due;
    }

    /// <summary>A due window the kernel still holds open (another writer extended it): watched again until its new end.</summary>
    public void StillOpen(string entry, DateTimeOffset until) => _open[entry] = until;
}
