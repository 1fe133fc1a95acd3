namespace NetlinkFence.Policy;

/// <summary>
/// What <c>by:</c> needs to know about the host: its cgroup v2 hierarchy and its users. The policy layer decides what
/// is an error; an implementation only looks (NetlinkFence.Runtime.HostServices reads the real hierarchy and users).
/// </summary>
public interface IServiceHost
{
    /// <summary>Where the cgroup2 hierarchy is mounted (<c>/sys/fs/cgroup</c>, or <c>/sys/fs/cgroup/unified</c> on a hybrid layout); null when it is not.</summary>
    string? CgroupMount { get; }

    /// <summary>The cgroup path (from the cgroup2 root, starting with <c>/</c>) where systemd runs <paramref name="unit"/> now, or null when it has none.</summary>
    string? UnitCgroup(string unit);

    /// <summary>Where systemd would put <paramref name="unit"/> by default (<c>/system.slice/NAME</c> for a service), for a unit that has no cgroup now.</summary>
    string DefaultUnitCgroup(string unit);

    /// <summary>The id of the cgroup at <paramref name="cgroupPath"/> (from the cgroup2 root), or null when it does not exist.</summary>
    ulong? CgroupId(string cgroupPath);

    /// <summary>The uid of user <paramref name="name"/>, or null when there is no such user.</summary>
    uint? UserId(string name);
}
