namespace NetlinkFence.Policy;

/// <summary>What a <c>by:</c> item names: a systemd unit, a cgroup v2 path, a user name or a numeric user id.</summary>
public enum ServiceScopeKind
{
    /// <summary><c>unit: chrony.service</c>: the unit's cgroup (and the cgroups below it).</summary>
    Unit,
    /// <summary><c>cgroup: /system.slice/chrony.service</c>: a path under the cgroup2 mount, and the cgroups below it.</summary>
    Cgroup,
    /// <summary><c>user: _chrony</c>: sockets owned by that user.</summary>
    User,
    /// <summary><c>uid: 118</c>: sockets owned by that user id.</summary>
    Uid,
}

/// <summary>
/// One <c>by:</c> item of an allow entry: who may use the entry. An entry with <c>by:</c> is usable by any of its items
/// and by nobody else; an entry without it is open to every process.
/// </summary>
public sealed record ServiceScope
{
    /// <summary>Creates an item.</summary>
    public ServiceScope(ServiceScopeKind kind, string value, SourceLocation? location = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        Kind = kind;
        Value = value;
        Location = location ?? SourceLocation.Code;
    }

    /// <summary>What <see cref="Value"/> names.</summary>
    public ServiceScopeKind Kind { get; }

    /// <summary>The unit name, cgroup path (from the cgroup2 root, starting with <c>/</c>), user name or uid, as written.</summary>
    public string Value { get; }

    /// <summary>
    /// <c>when_absent: deny</c> (units and cgroups): a unit with no cgroup when the policy is applied allows nothing until
    /// it appears (the daemon binds it then), instead of being an error.
    /// </summary>
    public bool WhenAbsentDeny { get; init; }

    /// <summary>Where the item is in the policy file.</summary>
    public SourceLocation Location { get; }

    /// <summary>True for units and cgroups (matched by <c>socket cgroupv2</c>), false for users (<c>meta skuid</c>).</summary>
    public bool IsCgroup => Kind is ServiceScopeKind.Unit or ServiceScopeKind.Cgroup;

    /// <summary>Equality ignores the location.</summary>
    public bool Equals(ServiceScope? other) => other is not null && Kind == other.Kind && Value == other.Value && WhenAbsentDeny == other.WhenAbsentDeny;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, Value, WhenAbsentDeny);

    /// <summary>As written in a policy: <c>unit: chrony.service</c>.</summary>
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}: {Value}{(WhenAbsentDeny ? ", when_absent: deny" : "")}";
}
