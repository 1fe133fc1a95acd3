namespace NetlinkFence.Policy;

/// <summary>
/// A <c>by:</c> item resolved on this host: the cgroup path it names (units and cgroups) with its depth, and what the
/// kernel matches now (<see cref="Current"/>; null while the unit or cgroup does not exist, which allows nothing).
/// </summary>
/// <param name="Scope">The item.</param>
/// <param name="Current">The cgroup id or uid to match now; null: absent (nothing is allowed through this item).</param>
/// <param name="CgroupPath">Units and cgroups: the path from the cgroup2 root (<c>/system.slice/chrony.service</c>); null for users.</param>
/// <param name="Level">Units and cgroups: the number of components of <paramref name="CgroupPath"/> (the ancestor level the rule loads).</param>
public sealed record ScopeBinding(ServiceScope Scope, GrantScope? Current, string? CgroupPath, uint Level)
{
    /// <summary>The level of a cgroup path: its number of components (<c>/</c> is 0, <c>/system.slice/a.service</c> is 2).</summary>
    public static uint LevelOf(string cgroupPath)
    {
        ArgumentNullException.ThrowIfNull(cgroupPath);
        return (uint)Runtime.CgroupHierarchy.LevelOf(cgroupPath); // one definition of a cgroup's level
    }
}
