using System.Globalization;

namespace NetlinkFence.Logging;

/// <summary>
/// User names by uid from the passwd database (<c>/etc/passwd</c>; NSS sources such as LDAP are not consulted),
/// cached. The file is re-read at most once a minute when a uid is not known yet (a user added later resolves then).
/// Not thread-safe.
/// </summary>
internal sealed class UserNames(string passwdPath = "/etc/passwd")
{
    private static readonly TimeSpan RereadAfter = TimeSpan.FromMinutes(1);
    private readonly Dictionary<uint, string> _names = [];
    private long _readAt = long.MinValue;

    /// <summary>The name of <paramref name="uid"/>, or null when the passwd database has none.</summary>
    public string? Name(uint uid)
    {
        if (_names.TryGetValue(uid, out string? name))
            return name;
        if (_readAt != long.MinValue && Environment.TickCount64 - _readAt < RereadAfter.TotalMilliseconds)
            return null;
        _readAt = Environment.TickCount64;
        Read();
        return _names.GetValueOrDefault(uid);
    }

    private void Read()
    {
        try
        {
            foreach (string line in File.ReadLines(passwdPath))
            {
                // name:password:uid:gid:gecos:home:shell
                string[] fields = line.Split(':');
                if (fields.Length >= 3 && fields[0].Length > 0 && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint uid))
                    _names.TryAdd(uid, fields[0]);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // no passwd database here: uids stay numbers
        }
    }
}
