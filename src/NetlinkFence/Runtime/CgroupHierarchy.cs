using System.Collections.Concurrent;
using System.Text;
using NetlinkFence.Interop;

namespace NetlinkFence.Runtime;

/// <summary>
/// The host's cgroup v2 hierarchy, as the kernel's <c>socket cgroupv2</c> match and sock_diag see it: cgroup paths
/// (<c>/system.slice/chrony.service</c>, relative to the cgroup2 mount) map to cgroup ids (the directory's inode) and
/// levels (the root is level 0), ids map back to paths, and systemd unit names map to the directories systemd gives
/// them. Works on unified and hybrid layouts (cgroup2 at <c>/sys/fs/cgroup</c> or <c>/sys/fs/cgroup/unified</c>).
/// </summary>
public sealed class CgroupHierarchy
{
    private const int MaxWalkDepth = 16;
    private static readonly string[] UnitSuffixes = [".service", ".scope"];
    private const int MaxRememberedMissing = 4096;
    private readonly ConcurrentDictionary<ulong, string> _pathById = new();
    private readonly ConcurrentDictionary<ulong, byte> _missingIds = new();

    /// <summary>Uses the cgroup2 hierarchy mounted at <paramref name="mountPoint"/> (also a test-made subtree root).</summary>
    public CgroupHierarchy(string mountPoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(mountPoint);
        MountPoint = mountPoint.Length > 1 ? mountPoint.TrimEnd('/') : mountPoint;
    }

    /// <summary>Where the cgroup2 file system is mounted, e.g. <c>/sys/fs/cgroup</c>.</summary>
    public string MountPoint { get; }

    /// <summary>The host's cgroup2 hierarchy from <c>/proc/self/mountinfo</c>, or null when none is mounted.</summary>
    public static CgroupHierarchy? Find() => FromMountInfo(File.ReadAllText("/proc/self/mountinfo"));

    /// <summary>The first cgroup2 mount listed in a <c>mountinfo</c> text, or null.</summary>
    public static CgroupHierarchy? FromMountInfo(string mountInfo)
    {
        ArgumentNullException.ThrowIfNull(mountInfo);
        foreach (var line in mountInfo.Split('\n'))
        {
            // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS"
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-");
            if (separator < 5 || separator + 1 >= fields.Length || fields[separator + 1] != "cgroup2")
                continue;
            return new CgroupHierarchy(UnescapeMountField(fields[4]));
        }
        return null;
    }

    /// <summary>
    /// Checks and normalizes a cgroup path: absolute, no empty, <c>.</c> or <c>..</c> components, no trailing slash.
    /// Returns null and says why in <paramref name="error"/> when it is not one.
    /// </summary>
    public static string? Normalize(string path, out string? error)
    {
        error = null;
        if (string.IsNullOrEmpty(path) || path[0] != '/')
        {
            error = "a cgroup path is absolute within the cgroup2 hierarchy, e.g. /system.slice/chrony.service";
            return null;
        }
        if (path == "/")
            return path;
        var trimmed = path.TrimEnd('/');
        foreach (var part in trimmed[1..].Split('/'))
        {
            if (part is "" or "." or "..")
            {
                error = $"'{path}' has an empty, '.' or '..' component: cgroup paths cannot leave or walk the hierarchy";
                return null;
            }
            if (part.Contains('\0'))
            {
                error = $"'{path}' contains a NUL character";
                return null;
            }
        }
        return trimmed;
    }

    /// <summary>The level of a normalized cgroup path: <c>/</c> is 0, <c>/system.slice</c> 1, and so on.</summary>
    public static int LevelOf(string path) => path == "/" ? 0 : path.Count(c => c == '/');

    /// <summary>The directory of a normalized cgroup path on this host.</summary>
    public string DirectoryOf(string path) => path == "/" ? MountPoint : MountPoint + path;

    /// <summary>The cgroup id of a normalized path, or null when that cgroup does not exist now.</summary>
    public ulong? IdOf(string path)
    {
        var id = FileInode.Of(DirectoryOf(path));
        if (id is { } known)
            _pathById[known] = path;
        return id;
    }

    /// <summary>
    /// The path of cgroup <paramref name="id"/>, or null when no cgroup has it (any more). Remembered ids are checked
    /// again before they are returned (a removed cgroup's id is never reused while the host runs, but its path may be).
    /// </summary>
    /// <remarks>
    /// A walk's answer is remembered, a found path (checked again on every call) and a missing id alike: ids are never
    /// reused, so one that is gone stays gone, and a flood of denials from a removed cgroup walks the tree once.
    /// </remarks>
    public string? PathOf(ulong id)
    {
        if (_pathById.TryGetValue(id, out var known) && FileInode.Of(DirectoryOf(known)) == id)
            return known;
        if (_missingIds.ContainsKey(id))
            return null;
        var found = FileInode.Of(MountPoint) == id ? "/" : Walk(path => FileInode.Of(DirectoryOf(path)) == id);
        if (found is not null)
            _pathById[id] = found;
        else
        {
            if (_missingIds.Count >= MaxRememberedMissing)
                _missingIds.Clear();
            _missingIds[id] = 0;
        }
        return found;
    }

    /// <summary>
    /// The cgroup path systemd gave <paramref name="unit"/> (e.g. <c>/system.slice/chrony.service</c>), or null
    /// when the unit has no cgroup now (not running, or no systemd). The unit name must be valid
    /// (<see cref="IsValidUnitName"/>).
    /// </summary>
    public string? PathOfUnit(string unit)
    {
        if (!IsValidUnitName(unit))
            throw new ArgumentException($"'{unit}' is not a systemd unit name", nameof(unit));
        // Most services sit directly under system.slice; templates and user units sit deeper.
        if (FileInode.Of(DirectoryOf("/system.slice/" + unit)) is not null)
            return "/system.slice/" + unit;
        return Walk(path => path.EndsWith("/" + unit, StringComparison.Ordinal));
    }

    /// <summary>The deepest systemd service or scope a cgroup path belongs to (<c>chrony.service</c>), or null.</summary>
    public static string? UnitOf(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            if (UnitSuffixes.Any(s => parts[i].EndsWith(s, StringComparison.Ordinal) && parts[i].Length > s.Length))
                return parts[i];
        }
        return null;
    }

    /// <summary>The cgroup path of process <paramref name="pid"/> (its <c>0::</c> line), or null when it is gone.</summary>
    public static string? PathOfProcess(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/cgroup"))
            {
                if (line.StartsWith("0::", StringComparison.Ordinal))
                    return line[3..];
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
        }
        return null;
    }

    /// <summary>
    /// Whether <paramref name="unit"/> is a systemd unit name: a name and a type suffix, at most 255 characters
    /// of letters, digits and <c>:-_.\@</c>; never <c>/</c> or <c>..</c>.
    /// </summary>
    public static bool IsValidUnitName(string unit) =>
        !string.IsNullOrEmpty(unit) && Policy.ScopeSyntax.Check(Policy.ServiceScopeKind.Unit, unit) is null; // the policy's one check

    /// <summary>Breadth-first search of the hierarchy for the first path <paramref name="match"/> accepts.</summary>
    private string? Walk(Func<string, bool> match)
    {
        var level = new List<string> { "/" };
        for (var depth = 0; depth < MaxWalkDepth && level.Count > 0; depth++)
        {
            var next = new List<string>();
            foreach (var path in level)
            {
                if (depth > 0 && match(path))
                    return path;
                IEnumerable<string> children;
                try
                {
                    children = Directory.EnumerateDirectories(DirectoryOf(path));
                    foreach (var child in children)
                        next.Add((path == "/" ? "" : path) + "/" + Path.GetFileName(child));
                }
                catch (Exception e) when (e is DirectoryNotFoundException or UnauthorizedAccessException or IOException)
                {
                    // A cgroup removed while we walk, or one we may not read: neither holds the match.
                }
            }
            level = next;
        }
        return null;
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as three octal digits (<c>\040</c>).</summary>
    private static string UnescapeMountField(string field)
    {
        if (!field.Contains('\\'))
            return field;
        var result = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && field.AsSpan(i + 1, 3).ToString() is var octal &&
                octal.All(c => c is >= '0' and <= '7'))
            {
                result.Append((char)Convert.ToInt32(octal, 8));
                i += 3;
            }
            else
            {
                result.Append(field[i]);
            }
        }
        return result.ToString();
    }
}
