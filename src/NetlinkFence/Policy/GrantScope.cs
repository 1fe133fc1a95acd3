using System.Globalization;

namespace NetlinkFence.Policy;

/// <summary>
/// Who may use a grant, as the kernel matches it: the id of a cgroup v2 directory (matched by <c>socket cgroupv2 level N</c>,
/// so the cgroup and everything below it) or a user id (<c>meta skuid</c>). A grant without one is open to every process.
/// </summary>
/// <param name="IsCgroup">True: <paramref name="Id"/> is a cgroup id; false: a user id.</param>
/// <param name="Id">The cgroup id (its directory's inode number) or the uid.</param>
public readonly record struct GrantScope(bool IsCgroup, ulong Id)
{
    /// <summary>A cgroup's id.</summary>
    public static GrantScope Cgroup(ulong id) => new(true, id);

    /// <summary>A user id.</summary>
    public static GrantScope User(uint uid) => new(false, uid);

    /// <summary><c>cgroup 1234</c> or <c>uid 118</c>.</summary>
    public override string ToString() => (IsCgroup ? "cgroup " : "uid ") + Id.ToString(CultureInfo.InvariantCulture);
}
