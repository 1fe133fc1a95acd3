namespace NetlinkFence.Cli.Daemon;

/// <summary>Where a daemon for one table in one namespace keeps its control socket and lock, in the state directory.</summary>
internal static class DaemonPaths
{
    /// <summary>
    /// The control socket, <c>/run/netlinkfence/netns-DEV-INODE.&lt;table&gt;.sock</c>: keyed like the rollback state on the
    /// namespace's identity, so a verb given another spelling of the daemon's namespace (a name, /proc/PID/ns/net, or
    /// nothing for the namespace it runs in) finds it.
    /// </summary>
    public static string ControlSocket(TargetNamespace target, string table) => ControlSocket(new SafetyState(target, table));

    /// <summary>As <see cref="ControlSocket(TargetNamespace, string)"/>, for a <c>--netns</c> text (opened only to read its identity).</summary>
    public static string ControlSocket(string? netns, string table)
    {
        using var target = TargetNamespace.Open(netns);
        return ControlSocket(target, table);
    }

    private static string ControlSocket(SafetyState state) => state.LockPath[..^".lock".Length] + ".sock";

    /// <summary>
    /// The lock one daemon holds while it runs (flock): keyed like the rollback state on the namespace's identity, so
    /// two spellings of one namespace (a name, /proc/PID/ns/net) still find each other.
    /// </summary>
    public static string LockName(SafetyState state) => Path.GetFileName(state.LockPath)[..^".lock".Length] + ".daemon";
}
