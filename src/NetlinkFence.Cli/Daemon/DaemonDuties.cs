namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// What the daemon does beside its main loop (watching its table for foreign changes, re-binding scoped services,
/// writing the metrics file), each of which must run as long as the daemon does. One that ended or failed would leave
/// the daemon running without it, and nobody would see (a watch-mode daemon that no longer repairs its table):
/// <see cref="FirstEndAsync"/> says which ended and why, so the daemon can exit for its service manager to start it
/// again, the table left in place (fail closed).
/// </summary>
internal sealed class DaemonDuties
{
    private readonly List<(string Name, Task Task)> _duties = [];
    private readonly TaskCompletionSource<string> _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Adds a duty that runs until the daemon stops; nothing when <paramref name="task"/> is null (not configured).</summary>
    public void Add(string name, Task? task)
    {
        if (task is not null)
            _duties.Add((name, task));
    }

    /// <summary>
    /// A duty the daemon replaces as it goes (the DNS refresher, started again at each reload) stopped: reported as if
    /// it were one of those added. The first report counts.
    /// </summary>
    public void Fail(string why) => _failed.TrySetResult(why);

    /// <summary>Completes, with which duty ended and how, when the first one ends; never while all of them run.</summary>
    public async Task<string> FirstEndAsync()
    {
        var ended = await Task.WhenAny(_duties.Select(d => d.Task).Append(_failed.Task));
        if (ended == _failed.Task)
            return await _failed.Task;
        string name = _duties.First(d => d.Task == ended).Name;
        return ended.Status switch
        {
            TaskStatus.Faulted => $"{name} failed: {ended.Exception!.GetBaseException().Message}",
            TaskStatus.Canceled => $"{name} was cancelled",
            _ => $"{name} ended",
        };
    }

    /// <summary>
    /// Waits for every duty once the daemon cancelled them, their expected end. False when one failed instead (logged):
    /// the daemon then exits non-zero.
    /// </summary>
    public async Task<bool> StopAsync(Action<string> log)
    {
        bool clean = true;
        foreach (var (name, task) in _duties)
        {
            try
            {
                await task;
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e)
            {
                log($"{name} failed: {e.Message}");
                clean = false;
            }
        }
        return clean;
    }
}
