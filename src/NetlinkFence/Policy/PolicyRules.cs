using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace NetlinkFence.Policy;

/// <summary>
/// The validation rules of a version-1 policy, shared by the YAML loader (<see cref="PolicyReader"/>) and
/// <see cref="PolicyBuilder"/>, so both accept and refuse exactly the same things with the same codes.
/// Values arrive as text with a location (YAML node, or a description of the builder call), are checked,
/// and every problem is collected: nothing stops at the first error.
/// </summary>
internal sealed partial class PolicyRules
{
    private readonly Dictionary<string, (List<(string Text, SourceLocation Location)> Values, SourceLocation DefinedAt)> _variables = new(StringComparer.Ordinal);

    /// <summary>
    /// Where a <c>$name</c> put a variable's values, and which variable: an expanded value keeps its reference's
    /// location (that is where the reader looks), and an error there also names the definition, where the fix is.
    /// </summary>
    private readonly Dictionary<SourceLocation, string> _references = [];

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,40}$")]
    private static partial Regex KeyLikePattern();

    /// <summary>True for text that could be a mistyped key (a short word), which error messages may quote.</summary>
    public static bool LooksLikeKey(string text) => KeyLikePattern().IsMatch(text);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    private static partial Regex VariableNamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex TableNamePattern();

    /// <summary>Every problem found so far.</summary>
    public List<PolicyDiagnostic> Diagnostics { get; } = [];

    /// <summary>
    /// Warnings found while reading (a value written twice in one list: dropped, but perhaps a slip for another one),
    /// for lint to report; at most <see cref="MaxNotes"/>. They never stop a load.
    /// </summary>
    public List<PolicyDiagnostic> Notes { get; } = [];

    /// <summary>Most read warnings kept.</summary>
    public const int MaxNotes = 100;

    /// <summary>True when any error was reported.</summary>
    public bool HasErrors => Diagnostics.Any(d => d.Severity == Severity.Error);

    /// <summary>
    /// Most errors listed: a 10 MB file of bad lines would otherwise build hundreds of thousands of messages
    /// (gigabytes). The rest are counted in one final diagnostic.
    /// </summary>
    public const int MaxErrors = 1000;

    private int _droppedErrors;
    private SourceLocation? _firstDropped;

    public void Error(SourceLocation location, string message, string fix, string code)
    {
        if (Diagnostics.Count >= MaxErrors)
        {
            if (_droppedErrors++ == 0)
                _firstDropped = location;
            return;
        }
        if (_references.TryGetValue(location, out string? variable))
            message += $" (from ${variable}, defined at {_variables[variable].DefinedAt})";
        Diagnostics.Add(new PolicyDiagnostic(Severity.Error, location, message, fix, code));
    }

    /// <summary>Throws a <see cref="PolicyException"/> with every diagnostic when there is an error.</summary>
    public void ThrowIfErrors()
    {
        if (!HasErrors)
            return;
        // Distinct: a YAML alias makes the reader visit one node once per alias, with the same error each time.
        var sorted = Diagnostics.OrderBy(d => d.Location.Line).ThenBy(d => d.Location.Column).Distinct().ToList();
        if (_droppedErrors > 0)
            sorted.Add(new PolicyDiagnostic(Severity.Error, _firstDropped!, $"{_droppedErrors} more errors from here on are not listed (only the first {MaxErrors} are)",
                "fix the errors listed, then check the file again", "too-many-errors"));
        throw new PolicyException(sorted);
    }

    public string? TableName(string text, SourceLocation location)
    {
        if (TableNamePattern().IsMatch(text))
            return text;
        Error(location, $"table name '{text}' is not allowed", "use 1-64 letters, digits, '_' or '-', starting with a letter or '_' (nft reads a leading digit or '-' as a number)", "bad-table-name");
        return null;
    }

    /// <summary>Records a variable; its values are literals (no <c>$</c> references).</summary>
    public void Define(string name, SourceLocation nameLocation, IEnumerable<(string Text, SourceLocation Location)> values)
    {
        if (!VariableNamePattern().IsMatch(name))
        {
            Error(nameLocation, $"variable name '{name}' is not allowed", "use letters, digits and '_', starting with a letter or '_'", "bad-variable-name");
            return;
        }
        if (_variables.ContainsKey(name))
        {
            Error(nameLocation, $"variable '{name}' is defined twice", "keep one definition", "duplicate-variable");
            return;
        }
        var literal = new List<(string, SourceLocation)>();
        foreach (var (text, location) in values)
        {
            if (text.StartsWith('$'))
                Error(location, $"variable '{name}' refers to '{text}'", "variables hold literal values; write the values out", "nested-variable");
            else
                literal.Add((text, location));
        }
        _variables[name] = (literal, nameLocation);
    }

    /// <summary>
    /// Most values all lists of a policy may expand to together (a variable of N values referenced M times is
    /// N*M values): far above any real policy (a 100,000-address entry is fine), far below what would exhaust
    /// memory.
    /// </summary>
    public const int MaxExpandedValues = 1 << 20;

    private int _expanded;
    private bool _expansionLimitReported;

    /// <summary>
    /// Replaces every <c>$name</c> by the variable's values (keeping the reference's location: that is where the
    /// reader looks). A variable referenced again in the same list adds nothing (every list is de-duplicated), so
    /// it is expanded once; and all lists together expand to at most <see cref="MaxExpandedValues"/> values.
    /// </summary>
    public List<(string Text, SourceLocation Location)> Expand(List<(string Text, SourceLocation Location)> items)
    {
        var result = new List<(string, SourceLocation)>(items.Count);
        HashSet<string>? expanded = null;
        foreach (var (text, location) in items)
        {
            if (!text.StartsWith('$'))
            {
                if (Count(1, location))
                    result.Add((text, location));
                continue;
            }
            string name = text[1..];
            if (_variables.TryGetValue(name, out var variable))
            {
                var values = variable.Values;
                if (values.Count == 0)
                    Error(location, $"variable '${name}' is an empty list", "define at least one value, or remove the reference: an empty list would make the rule match nothing", "empty-variable");
                else if ((expanded ??= new(StringComparer.Ordinal)).Add(name) && Count(values.Count, location))
                {
                    _references[location] = name;
                    result.AddRange(values.Select(v => (v.Text, location)));
                }
            }
            else
            {
                string? suggestion = Closest(name, _variables.Keys);
                Error(location, $"undefined variable '${name}'",
                    suggestion is null ? $"define '{name}' under 'define:'" : $"did you mean '${suggestion}'? Otherwise define '{name}' under 'define:'", "undefined-variable");
            }
        }
        return result;
    }

    /// <summary>Counts <paramref name="values"/> more expanded values; false (reported once) beyond the limit.</summary>
    private bool Count(int values, SourceLocation location)
    {
        _expanded += Math.Min(values, MaxExpandedValues + 1 - _expanded);
        if (_expanded <= MaxExpandedValues)
            return true;
        if (!_expansionLimitReported)
        {
            _expansionLimitReported = true;
            Error(location, $"the policy expands to more than {MaxExpandedValues:N0} values (addresses, names and ports, counting every variable reference)",
                "use CIDRs instead of single addresses, port ranges instead of single ports, or reference big variables fewer times", "too-many-values");
        }
        return false;
    }

    /// <summary>Adds a <c>hosts:</c> pin to <paramref name="hosts"/>.</summary>
    public void Pin(string name, SourceLocation nameLocation, List<(string Text, SourceLocation Location)> values, SourceLocation valueLocation,
        Dictionary<string, IReadOnlyList<IPAddress>> hosts)
    {
        var parsed = AddressParser.Parse(name, nameLocation, out _, out _);
        if (parsed?.HostName is null)
        {
            if (AddressParser.IsInternationalizedName(name, out string? error, out string? fix))
                Error(nameLocation, error, fix, "bad-host-name");
            else
                Error(nameLocation, $"'{name}' is not a host name", "pin names such as api.example.com to addresses", "bad-host-name");
            return;
        }
        int before = Diagnostics.Count;
        var addresses = new List<IPAddress>();
        var seen = new HashSet<IPAddress>();
        foreach (var (text, location) in Expand(values))
        {
            if (AddressParser.ParseAddress(text, out string? error) is { } address)
            {
                if (seen.Add(address))
                    addresses.Add(address);
            }
            else
            {
                Error(location, error ?? $"'{text}' is not an IP address (hosts: pins name single addresses)", "write an IPv4 or IPv6 address such as 203.0.113.50 or 2001:db8::50", "bad-pin");
            }
        }
        if (addresses.Count == 0 && Diagnostics.Count == before)
            Error(valueLocation, $"host '{name}' is pinned to no address", "give at least one address", "empty-pin");
        if (!hosts.TryAdd(parsed.HostName, addresses))
            Error(nameLocation, $"host '{parsed.HostName}' is pinned twice (names are case-insensitive)", "keep one pin with all its addresses", "duplicate-pin");
    }

    public string? LogPrefix(string prefix, SourceLocation location)
    {
        int bytes = Encoding.UTF8.GetByteCount(prefix);
        if (bytes == 0 || bytes > 127)
            Error(location, $"log prefix is {bytes} bytes; the kernel accepts 1 to 127", bytes == 0 ? "write a prefix such as \"EGRESS-DENIED: \", or remove 'prefix:'" : "shorten the prefix to at most 127 bytes", "bad-log-prefix");
        else if (prefix.Any(c => c < 0x20 || c > 0x7e || c == '"'))
            Error(location, "log prefix has characters that would garble log lines (control characters, non-ASCII or '\"')", "use printable ASCII without quotes", "bad-log-prefix");
        else if (prefix.Contains('$'))
            Error(location, "log prefix has a '$', which nft reads as a variable (the plan would not load with nft -f)", "leave '$' out of the prefix", "bad-log-prefix");
        else
            return prefix;
        return null;
    }

    public (ulong Count, ulong UnitSeconds)? LogRate(string text, SourceLocation location)
    {
        var parts = text.Split('/', 2);
        ulong? seconds = parts.Length == 2 ? parts[1].Trim() switch { "second" => 1, "minute" => 60, "hour" => 3600, "day" => 86400, _ => null } : null;
        if (parts.Length != 2 || seconds is null || !ulong.TryParse(parts[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong n))
        {
            Error(location, $"log rate '{text}' is not understood", "write N/second, N/minute, N/hour or N/day, e.g. 10/second", "bad-log-rate");
            return null;
        }
        return LogRate(n, seconds.Value, location) ? (n, seconds.Value) : null;
    }

    public bool LogRate(ulong count, ulong unitSeconds, SourceLocation location)
    {
        if (count is >= 1 and <= 1_000_000 && unitSeconds is 1 or 60 or 3600 or 86400)
            return true;
        Error(location, $"log rate {count} per {unitSeconds}s is out of range", "use N from 1 to 1000000 per second, minute, hour or day (N/second)", "bad-log-rate");
        return false;
    }

    /// <summary><c>egress.deny</c>: drop or reject.</summary>
    public DenyAction? DenyAction(string text, SourceLocation location)
    {
        switch (text)
        {
            case "drop": return Policy.DenyAction.Drop;
            case "reject": return Policy.DenyAction.Reject;
        }
        Error(location, $"egress.deny is '{text}'",
            "write 'drop' (the default: a denied connection hears nothing and waits for its timeout) or 'reject' (it fails at once: ICMP administratively prohibited)", "bad-deny");
        return null;
    }

    public ushort? LogGroup(string text, SourceLocation location)
    {
        if (ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ushort value))
            return value;
        Error(location, $"log group '{text}' is not a number from 0 to 65535", "use an NFLOG group number such as 100", "bad-log-group");
        return null;
    }

    /// <summary>
    /// A duration of <c>egress.dns</c> (<c>30s</c>, <c>5m</c>, <c>1h</c>; bare digits are seconds) within
    /// [<paramref name="min"/>, 24h]; kernel element timeouts are milliseconds, so whole seconds are plenty.
    /// </summary>
    public TimeSpan? DnsDuration(string text, string key, TimeSpan min, SourceLocation location)
    {
        string t = text.Trim();
        int unit = t.Length > 0 ? t[^1] switch { 's' => 1, 'm' => 60, 'h' => 3600, _ => 0 } : 0;
        string digits = unit == 0 ? t : t[..^1];
        if (unit == 0)
            unit = 1;
        if (digits.Length is 0 or > 6 || !digits.All(char.IsAsciiDigit))
        {
            Error(location, $"egress.dns.{key} '{text}' is not a duration", "write seconds, minutes or hours such as 30s, 5m or 1h", "bad-dns-duration");
            return null;
        }
        var value = TimeSpan.FromSeconds((long)int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture) * unit);
        if (value >= min && value <= TimeSpan.FromHours(24))
            return value;
        Error(location, $"egress.dns.{key} {text} is out of range", $"use {(min == TimeSpan.Zero ? "0s" : "1s")} to 24h", "bad-dns-duration");
        return null;
    }

    /// <summary><c>min_ttl</c> at most <c>max_ttl</c>: the floor above the cap would leave no TTL to take.</summary>
    public void CheckTtlBounds(DnsSettings settings, SourceLocation location)
    {
        if (settings.MinTtl > settings.MaxTtl)
            Error(location, $"egress.dns.min_ttl {WindowDuration.Format(settings.MinTtl)} is above max_ttl {WindowDuration.Format(settings.MaxTtl)}",
                $"raise max_ttl (default {WindowDuration.Format(DnsSettings.DefaultMaxTtl)}, at most 24h) or lower min_ttl", "bad-dns-duration");
    }

    /// <summary>Most addresses most one name may hold (<c>egress.dns.max_addresses_per_name</c>), 1 to 10,000.</summary>
    public int? MaxAddressesPerName(string text, SourceLocation location)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value is >= 1 and <= 10_000)
            return value;
        Error(location, $"egress.dns.max_addresses_per_name '{text}' is not a number from 1 to 10000", "use a count such as 50", "bad-max-addresses");
        return null;
    }

    /// <summary><c>resolve:</c> on an allow entry: only <c>lazy</c> is written (resolving at apply is the default).</summary>
    public bool ResolveMode(string text, SourceLocation location)
    {
        if (text == "lazy")
            return true;
        Error(location, $"resolve: '{text}' is not understood", "write 'resolve: lazy' (a name that does not resolve at apply is then not an error), or remove it", "bad-resolve");
        return false;
    }

    public string? EntryName(string name, SourceLocation location)
    {
        if (EntryNames.IsValid(name))
            return name;
        Error(location, $"entry name '{name}' is not allowed: {EntryNames.Problem(name)}",
            EntryNames.From(name) is { } suggestion ? $"write '{suggestion}' ({EntryNames.Rule})" : $"use {EntryNames.Rule}", "bad-entry-name");
        return null;
    }

    /// <summary>
    /// Expands and parses a destination list. <paramref name="required"/>: an empty list is an error (it would
    /// match nothing, or, for input sources, be mistaken for "any source").
    /// </summary>
    public List<Destination> Destinations(List<(string Text, SourceLocation Location)> items, string path, SourceLocation listLocation, bool required)
    {
        int before = Diagnostics.Count;
        var expanded = Expand(items);
        var destinations = new List<Destination>(expanded.Count);
        var seen = Seen<Destination>(expanded.Count);
        foreach (var (text, location) in expanded)
        {
            string? error, fix;
            if (AddressParser.TryParseRange(text, location, out var range, out error, out fix))
            {
                foreach (var part in range ?? [])
                {
                    if (IsNew(part, destinations, seen))
                        destinations.Add(part);
                }
            }
            else if (AddressParser.Parse(text, location, out error, out fix) is { } destination)
            {
                if (IsNew(destination, destinations, seen))
                    destinations.Add(destination);
                else if (Notes.Count < MaxNotes && Literal(location) && destinations.FirstOrDefault(d => d.Equals(destination) && Literal(d.Location)) is { } first)
                    Repeated(location, $"'{text}' is written twice in {path} (first at {first.Location})", "remove one; if another destination was meant, write that one");
            }
            if (error is not null)
                Error(location, error, fix!, "bad-address");
        }
        // Only when nothing else explains the emptiness (an undefined or empty variable already did).
        if (required && destinations.Count == 0 && Diagnostics.Count == before)
            Error(listLocation, $"{path} is empty", "name at least one address or host: an empty list would allow nothing and hide the mistake", "empty-destinations");
        return destinations;
    }

    public List<PortRange> Ports(List<(string Text, SourceLocation Location)> items, string path)
    {
        var expanded = Expand(items);
        var ports = new List<PortRange>(expanded.Count);
        var written = new List<SourceLocation>(expanded.Count); // where each kept port was written, for a repeat's note
        var seen = Seen<PortRange>(expanded.Count);
        foreach (var (text, location) in expanded)
        {
            // Parsed in place: a policy of 10,000 entries has as many port lists, and only an error needs the parts as text.
            int dash = text.IndexOf('-');
            ReadOnlySpan<char> firstText = (dash < 0 ? text : text.AsSpan(0, dash)).Trim(), lastText = dash < 0 ? firstText : text.AsSpan(dash + 1).Trim();
            int? first = Port(firstText), last = Port(lastText);
            if (first is null || last is null)
                Error(location, $"'{text}' is not a port or port range", "write a port number (443) or a range (1000-2000)", "bad-port");
            else if (first is < 1 or > 65535 || last is < 1 or > 65535)
                Error(location, $"port {(first is < 1 or > 65535 ? firstText : lastText)} is out of range", "ports are 1 to 65535", "bad-port");
            else if (last < first)
                Error(location, $"port range '{text}' runs backwards", $"write {last}-{first}", "bad-port");
            else if (IsNew(new PortRange((ushort)first, (ushort)last), ports, seen))
            {
                ports.Add(new PortRange((ushort)first, (ushort)last));
                written.Add(location);
            }
            else if (Notes.Count < MaxNotes && Literal(location) && written[ports.IndexOf(new PortRange((ushort)first, (ushort)last))] is var firstAt && Literal(firstAt))
                Repeated(location, $"port '{text}' is written twice in {path} (first at {firstAt})", "remove one; if another port was meant, write that one");
        }
        return ports;

        // Digits only (no sign, no hex); very long numbers are simply out of range.
        static int? Port(ReadOnlySpan<char> text) =>
            text.Length == 0 || text.ContainsAnyExceptInRange('0', '9') ? null
            : text.Length > 9 ? int.MaxValue : int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>Whether the value at <paramref name="location"/> was written there, not brought by a variable (variables may overlap on purpose).</summary>
    private bool Literal(SourceLocation location) => !_references.ContainsKey(location);

    /// <summary>
    /// A value a list repeats: dropped (allowed once), and noted for lint as <c>repeated-value</c>. The callers look for
    /// the first copy only while notes are kept: a list of 100,000 copies must not be searched 100,000 times.
    /// </summary>
    private void Repeated(SourceLocation location, string message, string fix) =>
        Notes.Add(new PolicyDiagnostic(Severity.Warning, location, message, fix, "repeated-value"));

    /// <summary>
    /// Duplicates are dropped with a hash set for long lists (a linear search made a 100,000-destination entry
    /// quadratic, tens of seconds) and by looking through the short ones: most lists hold one or two values, and a
    /// policy of 10,000 entries has tens of thousands of them.
    /// </summary>
    private static HashSet<T>? Seen<T>(int count) => count > 8 ? new HashSet<T>(count) : null;

    private static bool IsNew<T>(T value, List<T> kept, HashSet<T>? seen) => seen?.Add(value) ?? !kept.Contains(value);

    /// <summary>
    /// An allow entry must name ports: one without would match nothing or everything. Not reported when the
    /// port lists were empty because their values were wrong (errors since <paramref name="before"/>).
    /// </summary>
    public void RequirePorts(IReadOnlyList<PortRange> tcp, IReadOnlyList<PortRange> udp, int before, string what, string name, SourceLocation location)
    {
        if (tcp.Count == 0 && udp.Count == 0 && Diagnostics.Count == before)
            Error(location, $"{what} ('{name}') names no ports", "add 'tcp: [443]' or 'udp: [...]': an entry without ports would allow nothing or everything", "no-ports");
    }

    /// <summary>The shortest and longest <c>window:</c>.</summary>
    public static readonly TimeSpan MinWindow = TimeSpan.FromSeconds(1), MaxWindow = TimeSpan.FromHours(24);

    /// <summary>
    /// A <c>window:</c> duration: whole numbers with units, largest first, e.g. <c>30m</c>, <c>90s</c>, <c>1h30m</c>;
    /// 1s to 24h.
    /// </summary>
    public TimeSpan? Window(string text, SourceLocation location)
    {
        if (WindowDuration.Parse(text) is not { } window)
        {
            Error(location, $"window '{text}' is not a duration", "write a whole number of seconds, minutes or hours, e.g. 'window: 30m' (or 90s, 2h, 1h30m)", "bad-window");
            return null;
        }
        return Window(window, location);
    }

    /// <summary>Checks a window's range (1s to 24h).</summary>
    public TimeSpan? Window(TimeSpan window, SourceLocation location)
    {
        if (window >= MinWindow && window <= MaxWindow)
            return window;
        Error(location, $"window {WindowDuration.Format(window)} is out of range", "a window is 1s to 24h; a longer one is a permanent entry (remove 'window:')", "bad-window");
        return null;
    }

    public void CheckUniqueNames(IReadOnlyList<AllowEntry> entries, string path)
    {
        foreach (var group in entries.GroupBy(e => e.Name).Where(g => g.Count() > 1))
        {
            var first = group.First();
            foreach (var duplicate in group.Skip(1))
                Error(duplicate.Location, $"{path} entry name '{group.Key}' is used more than once (first at {first.Location})",
                    "give every entry its own name: names are rule comments, set names and log keys", "duplicate-name");
        }
    }

    /// <summary>The candidate closest to <paramref name="word"/> (edit distance), when close enough to be a typo.</summary>
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            int distance = Levenshtein(word.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = candidate;
            }
        }
        return bestDistance <= Math.Max(1, word.Length / 3) ? best : null;
    }

    /// <summary>Edit distance counting a swap of two neighbours as one edit ("tabel" is one typo from "table").</summary>
    private static int Levenshtein(string a, string b)
    {
        if (a.Length > 64 || b.Length > 64)
            return int.MaxValue;
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
            d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++)
            d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
