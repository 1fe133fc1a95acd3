using NetlinkFence.Runtime;

namespace NetlinkFence.Cli;

/// <summary>
/// The one place the CLI makes its <see cref="HostServices"/>: systemd's units under the cgroup2 root, or under
/// <c>NETLINKFENCE_UNIT_ROOT</c> (a cgroup path) when set: a systemd that runs in a delegated subtree, and the tests,
/// which build a systemd-like layout below a cgroup of their own.
/// </summary>
internal static class ServiceHosts
{
    public static HostServices Create() =>
        Environment.GetEnvironmentVariable("NETLINKFENCE_UNIT_ROOT") is { Length: > 0 } root ? new HostServices(unitRoot: root) : new HostServices();
}
