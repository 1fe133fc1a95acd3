using System.Globalization;
using NetlinkFence.Policy;

namespace NetlinkFence.Runtime;

/// <summary>
/// The host as <c>by:</c> sees it: its cgroup v2 hierarchy (<see cref="CgroupHierarchy"/>) and its users (<c>/etc/passwd</c>;
/// accounts that only an NSS service such as LDAP knows are not found: scope those by <c>uid:</c>).
/// </summary>
public sealed class HostServices : IServiceHost
{
    private readonly CgroupHierarchy? _hierarchy;
    private readonly string _unitRoot;
    private readonly string _passwd;

    /// <summary>
    /// The host's services: cgroups in <paramref name="hierarchy"/> (default: the mounted one), systemd's units under
    /// <paramref name="unitRoot"/> (a cgroup path; default <c>/</c>, where systemd keeps them; a test builds a systemd-like
    /// layout below a cgroup of its own), users from <paramref name="passwdFile"/>.
    /// </summary>
    public HostServices(CgroupHierarchy? hierarchy = null, string unitRoot = "/", string passwdFile = "/etc/passwd")
    {
        ArgumentNullException.ThrowIfNull(unitRoot);
        ArgumentNullException.ThrowIfNull(passwdFile);
        _hierarchy = hierarchy ?? CgroupHierarchy.Find();
        _unitRoot = unitRoot == "/" ? "" : CgroupHierarchy.Normalize(unitRoot, out string? error) ?? throw new ArgumentException(error, nameof(unitRoot));
        _passwd = passwdFile;
    }

    /// <summary>The cgroup hierarchy used, or null when none is mounted.</summary>
    public CgroupHierarchy? Hierarchy => _hierarchy;

    /// <inheritdoc />
    public string? CgroupMount => _hierarchy?.MountPoint;

    /// <inheritdoc />
    public string? UnitCgroup(string unit)
    {
        if (_hierarchy is null)
            return null;
        if (_unitRoot.Length == 0)
            return _hierarchy.PathOfUnit(unit);
        return new CgroupHierarchy(_hierarchy.DirectoryOf(_unitRoot)).PathOfUnit(unit) is { } below ? _unitRoot + below : null;
    }

    /// <summary>
    /// The <c>.service</c> units that have a cgroup now under the unit root's <c>system.slice</c> (and the slices in it),
    /// sorted; empty without a cgroup2 hierarchy. What <c>lint</c> compares unscoped entries against.
    /// </summary>
    public IReadOnlyList<string> Services()
    {
        var services = new SortedSet<string>(StringComparer.Ordinal);
        if (_hierarchy is null)
            return [];
        var pending = new Queue<(string Directory, int Depth)>();
        pending.Enqueue((_hierarchy.DirectoryOf(_unitRoot + "/system.slice"), 0));
        while (pending.TryDequeue(out var next))
        {
            string[] children;
            try
            {
                children = Directory.GetDirectories(next.Directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // gone meanwhile, or not ours to read
            }
            foreach (var child in children)
            {
                string name = Path.GetFileName(child);
                if (name.EndsWith(".service", StringComparison.Ordinal) && CgroupHierarchy.IsValidUnitName(name))
                    services.Add(name);
                else if (name.EndsWith(".slice", StringComparison.Ordinal) && next.Depth < 3)
                    pending.Enqueue((child, next.Depth + 1));
            }
        }
        return [.. services];
    }

    /// <inheritdoc />
    public string DefaultUnitCgroup(string unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        if (unit.EndsWith(".slice", StringComparison.Ordinal) && unit != "-.slice")
        {
            // systemd nests slices by their dashes: a-b.slice lives in a.slice.
            var parts = unit[..^".slice".Length].Split('-');
            var path = "";
            for (int i = 1; i <= parts.Length; i++)
                path += "/" + string.Join('-', parts[..i]) + ".slice";
            return _unitRoot + path;
        }
        return _unitRoot + "/system.slice/" + unit;
    }

    /// <inheritdoc />
    public ulong? CgroupId(string cgroupPath)
    {
        if (_hierarchy is null || CgroupHierarchy.Normalize(cgroupPath, out _) is not { } path)
            return null;
        return _hierarchy.IdOf(path);
    }

    /// <inheritdoc />
    public uint? UserId(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!File.Exists(_passwd))
            return null;
        foreach (var line in File.ReadLines(_passwd))
        {
            // name:password:uid:gid:gecos:home:shell
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == name && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint uid))
                return uid;
        }
        return null;
    }
}
