namespace NetlinkFence.Cli.Daemon;

/// <summary>Where a daemon for one table in one namespace keeps its control socket and lock, in the state directory.</summary>
internal static class DaemonPaths
{
    /// <summary>
    /// The control socket, <c>/run/netlinkfence/&lt;netns-or-host&gt;-&lt;table&gt;.sock</c>: named by the <c>--netns</c>
    /// text the daemon was started with (a CLI verb given the same text finds it).
    /// </summary>
    public static string ControlSocket(string? netns, string table) =>
        Path.Combine(SafetyState.Directory, (netns is null ? "host" : SafetyState.Sanitize(netns)) + "-" + SafetyState.Sanitize(table) + ".sock");

    /// <summary>
    /// The lock one daemon holds while it runs (flock): keyed like the rollback state on the namespace's identity, so
    /// two spellings of one namespace (a name, /proc/PID/ns/net) still find each other.
    /// </summary>
    public static string LockName(SafetyState state) => Path.GetFileName(state.LockPath)[..^".lock".Length] + ".daemon";
}
