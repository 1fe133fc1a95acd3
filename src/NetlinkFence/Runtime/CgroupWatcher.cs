using System.Threading.Channels;

namespace NetlinkFence.Runtime;

/// <summary>
/// Calls back when cgroups are created or removed anywhere under a cgroup2 directory (inotify, through
/// <see cref="FileSystemWatcher"/> on the hierarchy: a restarted unit's cgroup is removed and made again), and every
/// <c>backstop</c> interval in case an event was lost (an inotify queue overflow). Bursts coalesce into one call: a
/// unit's stop and start seen together are one re-bind. One call at a time. When inotify is refused (the user's
/// instance or watch limit is reached), it says so through <see cref="WatchUnavailable"/> and looks every backstop
/// instead: later, never silently not at all.
/// </summary>
public sealed class CgroupWatcher
{
    private readonly string _directory;
    private readonly TimeSpan _backstop;

    /// <summary>Watches <paramref name="directory"/> (the cgroup2 mount) and below; checks anyway every <paramref name="backstop"/> (default 10 s).</summary>
    public CgroupWatcher(string directory, TimeSpan? backstop = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = directory;
        _backstop = backstop ?? TimeSpan.FromSeconds(10);
    }

    /// <summary>
    /// Called once, with the reason, when the hierarchy cannot be watched (inotify refused); the watcher then looks every
    /// backstop interval only. Null: not told.
    /// </summary>
    public Action<string>? WatchUnavailable { get; init; }

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled, calling <paramref name="onChange"/> after each burst of changes.</summary>
    public async Task RunAsync(Func<CancellationToken, Task> onChange, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        var changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        using var watcher = TryWatch(changed.Writer);
        while (!cancellationToken.IsCancellationRequested)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(_backstop);
            try
            {
                await changed.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The backstop: look even without an event.
            }
            cancellationToken.ThrowIfCancellationRequested();
            await onChange(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The inotify watch on the hierarchy; null (after telling <see cref="WatchUnavailable"/>) when the kernel refuses one.</summary>
    private FileSystemWatcher? TryWatch(ChannelWriter<bool> changed)
    {
        var watcher = new FileSystemWatcher(_directory) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.DirectoryName };
        watcher.Created += (_, _) => changed.TryWrite(true);
        watcher.Deleted += (_, _) => changed.TryWrite(true);
        watcher.Renamed += (_, _) => changed.TryWrite(true);
        watcher.Error += (_, _) => changed.TryWrite(true); // overflow: something changed, look
        try
        {
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (IOException e) // EMFILE/ENOSPC: fs.inotify.max_user_instances or max_user_watches reached
        {
            watcher.Dispose();
            WatchUnavailable?.Invoke($"{_directory} cannot be watched ({e.Message}); looking every {_backstop.TotalSeconds:0.#} s instead");
            return null;
        }
    }
}
