namespace NetlinkFence.Policy;

/// <summary>
/// Resolves every <c>by:</c> item of a policy on a host: a unit to its cgroup, a cgroup path to its id, a user to its uid.
/// Every problem is a located error (the default is never "open to everyone"): a unit or cgroup that does not exist
/// is one unless the item says <c>when_absent: deny</c>, then it is bound to nothing (allows nothing) until it appears.
/// </summary>
internal static class ScopeResolver
{
    public static Dictionary<ServiceScope, ScopeBinding> Resolve(EgressPolicy policy, IServiceHost? host)
    {
        var bindings = new Dictionary<ServiceScope, ScopeBinding>();
        var errors = new List<PolicyDiagnostic>();
        foreach (var scope in policy.Egress.SelectMany(e => e.By))
        {
            if (bindings.ContainsKey(scope))
                continue;
            if (host is null)
            {
                errors.Add(Error(scope, $"'by: {{ {scope} }}' needs the host's cgroups and users, and this policy was resolved without them",
                    "resolve the policy with an IServiceHost (the CLI does)"));
                continue;
            }
            if (Bind(scope, host, out string? problem, out string? fix) is { } binding)
                bindings[scope] = binding;
            else
                errors.Add(Error(scope, problem!, fix!));
        }
        if (errors.Count > 0)
            throw new PolicyException(errors);
        return bindings;
    }

    /// <summary>The binding of <paramref name="scope"/> on <paramref name="host"/> now, or null with what is wrong.</summary>
    public static ScopeBinding? Bind(ServiceScope scope, IServiceHost host, out string? problem, out string? fix)
    {
        problem = fix = null;
        switch (scope.Kind)
        {
            case ServiceScopeKind.User:
                if (host.UserId(scope.Value) is { } uid)
                    return new ScopeBinding(scope, GrantScope.User(uid), null, 0);
                problem = $"user '{scope.Value}' does not exist on this host";
                fix = "check the name (getent passwd NAME), create the account before applying, or write 'uid: N'";
                return null;
            case ServiceScopeKind.Uid:
                return new ScopeBinding(scope, GrantScope.User(uint.Parse(scope.Value, System.Globalization.CultureInfo.InvariantCulture)), null, 0);
        }
        if (host.CgroupMount is not { } mount)
        {
            problem = $"'{scope}' needs a cgroup2 hierarchy, and none is mounted (no cgroup2 line in /proc/self/mountinfo)";
            fix = "mount cgroup2 (systemd does on a unified or hybrid layout), or scope the entry by user instead";
            return null;
        }
        string path;
        if (scope.Kind == ServiceScopeKind.Unit)
        {
            if (host.UnitCgroup(scope.Value) is { } found)
                path = found;
            else if (scope.WhenAbsentDeny)
                return new ScopeBinding(scope, null, host.DefaultUnitCgroup(scope.Value), ScopeBinding.LevelOf(host.DefaultUnitCgroup(scope.Value)));
            else
            {
                problem = $"unit '{scope.Value}' has no cgroup on this host (it is not running, or not installed here)";
                fix = "start it before applying, check the name, or write 'when_absent: deny' to allow nothing until it runs (the daemon binds it then)";
                return null;
            }
        }
        else if (CgroupPath(scope.Value, mount) is { } relative)
        {
            path = relative;
        }
        else
        {
            problem = $"cgroup path '{scope.Value}' is outside the cgroup2 mount ({mount})";
            fix = $"write the path from the cgroup2 root, e.g. '/system.slice/chrony.service' (which is {mount.TrimEnd('/')}/system.slice/chrony.service)";
            return null;
        }
        var id = host.CgroupId(path);
        if (id is null && !scope.WhenAbsentDeny)
        {
            problem = $"cgroup '{path}' does not exist under the cgroup2 mount ({mount})";
            fix = "check the path, start the service first, or write 'when_absent: deny' to allow nothing until it exists (the daemon binds it then)";
            return null;
        }
        return new ScopeBinding(scope, id is { } i ? GrantScope.Cgroup(i) : null, path, ScopeBinding.LevelOf(path));
    }

    /// <summary>
    /// A cgroup path from the cgroup2 root: as written, or a filesystem path into the mount with the mount cut off;
    /// null for a filesystem path into any other cgroup hierarchy (a v1 controller, the hybrid layout's tmpfs).
    /// </summary>
    private static string? CgroupPath(string value, string mount)
    {
        string root = mount.TrimEnd('/');
        if (value.StartsWith(root + "/", StringComparison.Ordinal))
            return value[root.Length..];
        bool filesystemPath = value.StartsWith("/sys/", StringComparison.Ordinal) || value.StartsWith("/proc/", StringComparison.Ordinal)
            || (root.Length > 1 && root.StartsWith(value.TrimEnd('/') + "/", StringComparison.Ordinal));
        return filesystemPath ? null : value;
    }

    private static PolicyDiagnostic Error(ServiceScope scope, string message, string fix) =>
        new(Severity.Error, scope.Location, message, fix, "bad-by");
}
