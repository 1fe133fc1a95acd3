using System.Threading.Channels;

namespace NetlinkFence.Runtime;

/// <summary>
/// Calls back when cgroups are created or removed anywhere under a cgroup2 directory (inotify, through
/// <see cref="FileSystemWatcher"/> on the hierarchy: a restarted unit's cgroup is removed and made again), and every
/// <c>backstop</c> interval in case an event was lost (an inotify queue overflow). Bursts coalesce into one call: a
/// unit's stop and start seen together are one re-bind. One call at a time.
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

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled, calling <paramref name="onChange"/> after each burst of changes.</summary>
    public async Task RunAsync(Func<CancellationToken, Task> onChange, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        var changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        using var watcher = new FileSystemWatcher(_directory)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.DirectoryName,
        };
        watcher.Created += (_, _) => changed.Writer.TryWrite(true);
        watcher.Deleted += (_, _) => changed.Writer.TryWrite(true);
        watcher.Renamed += (_, _) => changed.Writer.TryWrite(true);
        watcher.Error += (_, _) => changed.Writer.TryWrite(true); // overflow: something changed, look
        watcher.EnableRaisingEvents = true;
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
}
