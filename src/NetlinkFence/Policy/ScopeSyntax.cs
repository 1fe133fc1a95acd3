using System.Globalization;
using System.Text.RegularExpressions;

namespace NetlinkFence.Policy;

/// <summary>The shape of <c>by:</c> values, checked without looking at the host (what exists is <see cref="ScopeResolver"/>'s job).</summary>
internal static partial class ScopeSyntax
{
    /// <summary>Unit types systemd gives a cgroup to (a .service, .scope or .slice; .socket, .mount and .swap while they run a command).</summary>
    private static readonly string[] CgroupUnitTypes = [".service", ".scope", ".slice", ".socket", ".mount", ".swap"];

    /// <summary>systemd's unit name characters (unit_name_is_valid: letters, digits, ":-_.\" and "@" for instances).</summary>
    [GeneratedRegex(@"^[A-Za-z0-9:_.\\@-]+$")]
    private static partial Regex UnitNamePattern();

    /// <summary>A POSIX user name (useradd's default NAME_REGEX, plus a trailing $ for machine accounts).</summary>
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$")]
    private static partial Regex UserNamePattern();

    /// <summary>null when <paramref name="value"/> is a valid value of <paramref name="kind"/>; else what is wrong and how to fix it.</summary>
    public static (string Message, string Fix)? Check(ServiceScopeKind kind, string value) => kind switch
    {
        ServiceScopeKind.Unit => Unit(value),
        ServiceScopeKind.Cgroup => Cgroup(value),
        ServiceScopeKind.User => IsUserName(value) ? null
            : ($"'{Shown(value)}' is not a user name", "write the account's login name (as in /etc/passwd), or 'uid: N'"),
        ServiceScopeKind.Uid => uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out uint uid) && uid != uint.MaxValue ? null
            : ($"'{Shown(value)}' is not a user id", "write a number from 0 to 4294967294, or 'user: NAME'"),
        _ => ("unknown by: kind", "use unit, cgroup, user or uid"),
    };

    /// <summary>Whether <paramref name="value"/> is shaped like a login name (whether the account exists is the resolver's question).</summary>
    public static bool IsUserName(string value) => UserNamePattern().IsMatch(value);

    private static (string, string)? Unit(string value)
    {
        if (value.Contains('/') || value.Contains(".."))
            return ($"unit name '{Shown(value)}' contains '{(value.Contains('/') ? "/" : "..")}': a unit name is one name, not a path",
                "write the unit's name (e.g. 'unit: chrony.service'), or name its cgroup path with 'cgroup: /system.slice/chrony.service'");
        if (!UnitNamePattern().IsMatch(value) || value.Length > 255)
            return ($"'{Shown(value)}' is not a systemd unit name", "write a name such as 'chrony.service' (letters, digits and :-_.\\@)");
        if (!CgroupUnitTypes.Any(t => value.EndsWith(t, StringComparison.Ordinal) && value.Length > t.Length))
            return ($"unit '{Shown(value)}' has no type systemd runs in a cgroup",
                $"write the full name with its type, e.g. '{value.TrimEnd('.')}.service' ({string.Join(", ", CgroupUnitTypes)})");
        return null;
    }

    private static (string, string)? Cgroup(string value)
    {
        if (!value.StartsWith('/'))
            return ($"cgroup path '{Shown(value)}' does not start with '/'", "write the path from the cgroup2 root, e.g. '/system.slice/chrony.service'");
        var parts = value.Split('/')[1..];
        if (parts.Any(p => p is "." or ".."))
            return ($"cgroup path '{Shown(value)}' contains '.' or '..'", "write the path without them: it must stay under the cgroup2 mount");
        if (value.Length > 1 && parts.Any(p => p.Length == 0))
            return ($"cgroup path '{Shown(value)}' has an empty component ('//' or a trailing '/')", "write it as /a/b/c");
        if (value == "/")
            return ("cgroup '/' is the root: every process is in it", "remove 'by:' to allow every process, or name the service's cgroup");
        return null;
    }

    /// <summary>A value quoted back only when it is short printable text (it may be a line of some other file).</summary>
    private static string Shown(string value) => value.Length <= 200 && !value.Any(char.IsControl) ? value : "(not shown)";
}
