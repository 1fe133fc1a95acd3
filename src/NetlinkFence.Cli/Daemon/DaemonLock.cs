using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// One daemon per table and namespace: an exclusive flock on a file in the state directory, held for the daemon's
/// life (the kernel drops it when the process dies, however it dies). The file holds the holder's pid, for messages.
/// </summary>
internal sealed class DaemonLock : IDisposable
{
    private readonly SafeFileHandle _held;

    private DaemonLock(SafeFileHandle held) => _held = held;

    /// <summary>Takes the lock, or returns null and the pid recorded by the daemon that holds it (0: unknown).</summary>
    public static DaemonLock? TryTake(SafetyState state, out int holder)
    {
        string name = DaemonPaths.LockName(state);
        using var directory = StateDirectory.Open(SafetyState.Directory);
        if (directory.TryLock(name) is not { } held)
        {
            string? text = directory.Read(name) is { } bytes ? Encoding.ASCII.GetString(bytes).Trim() : null;
            holder = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : 0;
            return null;
        }
        holder = 0;
        RandomAccess.SetLength(held, 0);
        RandomAccess.Write(held, Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n"), 0);
        return new DaemonLock(held);
    }

    public void Dispose() => _held.Dispose();
}
