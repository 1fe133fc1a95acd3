using System.Globalization;
using System.Net;

namespace NetlinkFence.Policy;

/// <summary>
/// Builds an <see cref="EgressPolicy"/> in code, with exactly the rules of the YAML loader: the same values are
/// accepted (addresses, CIDRs, address ranges, host names, <c>$variables</c>, ports and port ranges) and the same mistakes are refused
/// with the same <see cref="PolicyDiagnostic.Code"/>s, all at once, by <see cref="Build"/>. A policy built here
/// equals the one loaded from the equivalent file and compiles to the same transaction.
/// </summary>
/// <example>
/// <code>
/// var policy = new PolicyBuilder()
///     .Define("collector", "192.168.1.20")
///     .Pin("api.ironclaw.example", "203.0.113.50")
///     .Log("EGRESS-DENIED: ", ratePerSecond: 10)
///     .Resolvers("192.168.1.10")
///     .AllowEgress("ironclaw-control", to: ["api.ironclaw.example"], tcp: [443])
///     .AllowEgress("syslog-tls", to: ["$collector"], tcp: [6514])
///     .Build();
/// </code>
/// </example>
/// <remarks>
/// Calls only record; nothing is checked until <see cref="Build"/>, so the order of calls does not matter (as
/// the order of keys in a file does not). Errors are located as <c>(builder) Method("name") field[index]</c>.
/// </remarks>
public sealed class PolicyBuilder
{
    private sealed record Entry(string? Name, IReadOnlyList<string>? Peers, IReadOnlyList<string> Tcp, IReadOnlyList<string> Udp);

    private string _table = "netlinkfence";
    private readonly List<(string Name, IReadOnlyList<string> Values)> _defines = [];
    private readonly List<(string Host, IReadOnlyList<string> Addresses)> _pins = [];
    private string? _logPrefix;
    private string? _logRateText;
    private ulong? _logRatePerSecond;
    private ushort? _logGroup;
    private (string Tls, string Ca, string? Certificate, string? Key, int? Queue, string? Heartbeat, string? Failback)? _remote;
    private readonly List<string> _remoteFallbacks = [];
    private List<string>? _resolvers;
    private DnsSettings _dns = DnsSettings.Default;
    private DenyAction _deny = DenyAction.Drop;
    private readonly List<string> _lazy = [];
    private readonly List<Entry> _egress = [];
    private readonly List<Entry> _input = [];
    private readonly List<(string Entry, string? Text, TimeSpan? Span)> _windows = [];
    private readonly List<string> _selfTestAllow = [];
    private readonly List<string> _selfTestDeny = [];

    /// <summary>The inet table the policy owns (default <c>netlinkfence</c>).</summary>
    public PolicyBuilder Table(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        _table = name;
        return this;
    }

    /// <summary>Defines a variable (one value or a list), used as <c>$name</c> in destinations, pins and resolvers.</summary>
    public PolicyBuilder Define(string name, params IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(name);
        _defines.Add((name, Copy(values)));
        return this;
    }

    /// <summary>Pins <paramref name="host"/> to addresses (<c>hosts:</c>): the name is never looked up in DNS.</summary>
    public PolicyBuilder Pin(string host, params IEnumerable<string> addresses)
    {
        ArgumentNullException.ThrowIfNull(host);
        _pins.Add((host, Copy(addresses)));
        return this;
    }

    /// <summary>Logs denied packets with <paramref name="prefix"/>, at most <paramref name="ratePerSecond"/> lines a second, to NFLOG <paramref name="group"/> when given.</summary>
    public PolicyBuilder Log(string? prefix, ulong? ratePerSecond = null, ushort? group = null)
    {
        _logPrefix = prefix;
        _logRatePerSecond = ratePerSecond;
        _logRateText = null;
        _logGroup = group;
        return this;
    }

    /// <summary>As <see cref="Log(string?, ulong?, ushort?)"/>, with the rate written as in a policy file (<c>10/second</c>, <c>60/minute</c>, ...).</summary>
    public PolicyBuilder Log(string? prefix, string rate, ushort? group = null)
    {
        ArgumentNullException.ThrowIfNull(rate);
        _logPrefix = prefix;
        _logRatePerSecond = null;
        _logRateText = rate;
        _logGroup = group;
        return this;
    }

    /// <summary>
    /// Ships denials to a syslog-over-TLS collector (<c>log.remote</c>): <paramref name="tls"/> is <c>address:port</c>
    /// (<c>[v6]:port</c>, <c>name:port</c>, <c>$variable:port</c>), <paramref name="ca"/> the absolute path of the CA
    /// that signed the collector's certificate; optionally a client certificate and key, the queue size, and how often
    /// the forwarder tells the collector it is alive (<paramref name="heartbeat"/>, <c>5m</c>: 10s to 24h), and, with
    /// fallbacks (<see cref="RemoteLogFallback"/>), how often the first collector is tried again while one is used
    /// (<paramref name="failback"/>, 30s to 24h; 5m when not given).
    /// </summary>
    public PolicyBuilder RemoteLog(string tls, string ca, string? certificate = null, string? key = null, int? queue = null, string? heartbeat = null, string? failback = null)
    {
        ArgumentNullException.ThrowIfNull(tls);
        ArgumentNullException.ThrowIfNull(ca);
        _remote = (tls, ca, certificate, key, queue, heartbeat, failback);
        return this;
    }

    /// <summary>
    /// A collector that takes the denials while the <see cref="RemoteLog"/> collector cannot be reached (<c>tls:</c>'s
    /// later items): same forms as its <c>tls</c>, same CA and client certificate. Repeated calls add, in order of preference.
    /// </summary>
    public PolicyBuilder RemoteLogFallback(string tls)
    {
        ArgumentNullException.ThrowIfNull(tls);
        _remoteFallbacks.Add(tls);
        return this;
    }

    /// <summary>DNS resolvers (<c>egress.dns.resolvers</c>): UDP and TCP 53 to these only. Repeated calls add.</summary>
    public PolicyBuilder Resolvers(params IEnumerable<string> resolvers)
    {
        (_resolvers ??= []).AddRange(Copy(resolvers));
        return this;
    }

    /// <summary>How names follow DNS (<c>egress.dns.min_ttl</c>, <c>grace</c>, <c>max_addresses_per_name</c>, <c>max_ttl</c>); null keeps a default.</summary>
    public PolicyBuilder Dns(TimeSpan? minTtl = null, TimeSpan? grace = null, int? maxAddressesPerName = null, TimeSpan? maxTtl = null)
    {
        var floor = minTtl ?? _dns.MinTtl;
        // As in a file: without max_ttl, the cap is never below the floor.
        _dns = new DnsSettings(floor, grace ?? _dns.Grace, maxAddressesPerName ?? _dns.MaxAddressesPerName) { MaxTtl = maxTtl ?? (floor > _dns.MaxTtl ? floor : _dns.MaxTtl) };
        return this;
    }

    /// <summary>What happens to egress no entry allows (<c>egress.deny</c>): dropped (the default) or rejected.</summary>
    public PolicyBuilder EgressDeny(DenyAction action)
    {
        if (!Enum.IsDefined(action))
            throw new ArgumentOutOfRangeException(nameof(action), action, "drop or reject");
        _deny = action;
        return this;
    }

    /// <summary><c>resolve: lazy</c> on the egress entry <paramref name="entry"/>: its names need not resolve when applied.</summary>
    public PolicyBuilder ResolveLazily(string entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        _lazy.Add(entry);
        return this;
    }

    /// <summary>Allows egress to <paramref name="to"/> (addresses, CIDRs, host names, <c>$variables</c>) on single ports.</summary>
    public PolicyBuilder AllowEgress(string name, IEnumerable<string> to, IEnumerable<int>? tcp = null, IEnumerable<int>? udp = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(to);
        _egress.Add(new Entry(name, Copy(to), Ports(tcp), Ports(udp)));
        return this;
    }

    /// <summary>Allows egress to <paramref name="to"/> on port ranges.</summary>
    public PolicyBuilder AllowEgress(string name, IEnumerable<string> to, IEnumerable<PortRange> tcp, IEnumerable<PortRange>? udp = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(to);
        _egress.Add(new Entry(name, Copy(to), Ports(tcp), Ports(udp)));
        return this;
    }

    /// <summary>
    /// Makes egress entry <paramref name="entry"/> an update window (<c>window:</c>): closed after apply, opened on demand
    /// for at most <paramref name="window"/> (written as in a file: <c>30m</c>, <c>90s</c>, <c>1h30m</c>; 1s to 24h).
    /// </summary>
    public PolicyBuilder Window(string entry, string window)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(window);
        _windows.Add((entry, window, null));
        return this;
    }

    /// <summary>As <see cref="Window(string, string)"/>, with a <see cref="TimeSpan"/> (1s to 24h).</summary>
    public PolicyBuilder Window(string entry, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(entry);
        _windows.Add((entry, null, window));
        return this;
    }

    /// <summary>
    /// Allows input from <paramref name="from"/> on single ports. <c>null</c> means from any source (lint warns);
    /// an empty list is an error. A null <paramref name="name"/> gets <c>input-N</c>, as in a file.
    /// </summary>
    public PolicyBuilder AllowInput(string? name, IEnumerable<string>? from, IEnumerable<int>? tcp = null, IEnumerable<int>? udp = null)
    {
        _input.Add(new Entry(name, from is null ? null : Copy(from), Ports(tcp), Ports(udp)));
        return this;
    }

    /// <summary>Allows input from <paramref name="from"/> on port ranges.</summary>
    public PolicyBuilder AllowInput(string? name, IEnumerable<string>? from, IEnumerable<PortRange> tcp, IEnumerable<PortRange>? udp = null)
    {
        _input.Add(new Entry(name, from is null ? null : Copy(from), Ports(tcp), Ports(udp)));
        return this;
    }

    /// <summary>
    /// Flows the self-test tries right after an apply (<c>selftest:</c>): <paramref name="allow"/> must get through,
    /// <paramref name="deny"/> must be dropped; written <c>203.0.113.50:443</c>, <c>udp:192.168.1.10:53</c>, <c>[2001:db8::50]:443</c>,
    /// or with a host name an entry uses, <c>api.example.com:443</c> (one flow to each of its addresses at apply).
    /// </summary>
    public PolicyBuilder SelfTest(IEnumerable<string>? allow, IEnumerable<string>? deny = null)
    {
        _selfTestAllow.AddRange(Copy(allow));
        _selfTestDeny.AddRange(Copy(deny));
        return this;
    }

    /// <summary>Validates everything and returns the policy; throws <see cref="PolicyException"/> listing every error.</summary>
    public EgressPolicy Build()
    {
        var rules = new PolicyRules();
        string table = rules.TableName(_table, At("Table()")) ?? "netlinkfence";

        foreach (var (name, values) in _defines)
            rules.Define(name, At($"Define(\"{name}\")"), Items(values, $"Define(\"{name}\")"));

        var hosts = new Dictionary<string, IReadOnlyList<IPAddress>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (host, addresses) in _pins)
            rules.Pin(host, At($"Pin(\"{host}\")"), Items(addresses, $"Pin(\"{host}\")"), At($"Pin(\"{host}\")"), hosts);

        string? prefix = _logPrefix is null ? null : rules.LogPrefix(_logPrefix, At("Log() prefix"));
        (ulong Count, ulong UnitSeconds)? rate = null;
        if (_logRateText is not null)
            rate = rules.LogRate(_logRateText, At("Log() rate"));
        else if (_logRatePerSecond is { } perSecond && rules.LogRate(perSecond, 1, At("Log() rate")))
            rate = (perSecond, 1);
        RemoteLogSettings? remote = null;
        if (_remote is null && _remoteFallbacks.Count > 0)
            rules.Error(At("RemoteLogFallback()"), "a fallback collector without RemoteLog()", "call RemoteLog() with the preferred collector first", "remote-without-tls");
        if (_remote is { } r)
        {
            static (string, SourceLocation)? Field(string? text, string what) => text is null ? null : (text, At($"RemoteLog() {what}"));
            var collectors = _remoteFallbacks.Select(f => (f, At($"RemoteLogFallback(\"{f}\")"))).Prepend((r.Tls, At("RemoteLog() tls"))).ToList();
            remote = RemoteLogRules.Check(rules, At("RemoteLog()"), collectors, Field(r.Ca, "ca"), Field(r.Certificate, "certificate"),
                Field(r.Key, "key"), Field(r.Queue?.ToString(CultureInfo.InvariantCulture), "queue"), Field(r.Heartbeat, "heartbeat"), Field(r.Failback, "failback"));
        }
        var log = new LogSettings(prefix, rate?.Count, rate?.UnitSeconds ?? 1, _logGroup) { Remote = remote };

        var input = Entries(rules, _input, "AllowInput", egress: false);
        var resolvers = _resolvers is null ? []
            : rules.Destinations(Items(_resolvers, "Resolvers()"), "resolvers", At("Resolvers()"), required: true);
        var egress = Windows(rules, Entries(rules, _egress, "AllowEgress", egress: true));
        foreach (string lazy in _lazy.Where(l => !egress.Any(e => e.Name == l)))
            rules.Error(At($"ResolveLazily(\"{lazy}\")"), $"there is no egress entry '{lazy}'", "name an entry added with AllowEgress", "unknown-entry");
        egress = egress.Select(e => _lazy.Contains(e.Name) ? e with { ResolveLazily = true } : e).ToList();
        var dns = Dns(rules, _dns);
        rules.CheckUniqueNames(egress, "egress");
        rules.CheckUniqueNames(input, "input");

        var selfTest = SelfTestRules.Test(rules, resolvers, [.. egress, .. input],
            Items(_selfTestAllow, "SelfTest() allow"), "SelfTest() allow", Items(_selfTestDeny, "SelfTest() deny"), "SelfTest() deny");

        rules.ThrowIfErrors();
        return new EgressPolicy(table, log, hosts, resolvers, egress, input) { SelfTest = selfTest, Dns = dns, EgressDeny = _deny };
    }

    /// <summary>The same ranges as the file's keys, checked through the same rules.</summary>
    private static DnsSettings Dns(PolicyRules rules, DnsSettings dns)
    {
        // Whole, non-negative seconds are written as a file would; anything else is refused as "not a duration".
        static string Seconds(TimeSpan span) => span.Ticks >= 0 && span.Ticks % TimeSpan.TicksPerSecond == 0
            ? ((long)span.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s" : span.ToString();
        var minTtl = rules.DnsDuration(Seconds(dns.MinTtl), "min_ttl", TimeSpan.FromSeconds(1), At("Dns() minTtl"));
        var grace = rules.DnsDuration(Seconds(dns.Grace), "grace", TimeSpan.Zero, At("Dns() grace"));
        var max = rules.MaxAddressesPerName(dns.MaxAddressesPerName.ToString(CultureInfo.InvariantCulture), At("Dns() maxAddressesPerName"));
        var maxTtl = rules.DnsDuration(Seconds(dns.MaxTtl), "max_ttl", TimeSpan.FromSeconds(1), At("Dns() maxTtl"));
        var settings = new DnsSettings(minTtl ?? DnsSettings.Default.MinTtl, grace ?? DnsSettings.Default.Grace, max ?? DnsSettings.Default.MaxAddressesPerName)
        {
            MaxTtl = maxTtl ?? DnsSettings.DefaultMaxTtl,
        };
        if (maxTtl is not null) // one that did not read is one error already
            rules.CheckTtlBounds(settings, At("Dns() minTtl, maxTtl"));
        return settings;
    }

    private static List<AllowEntry> Entries(PolicyRules rules, List<Entry> entries, string method, bool egress)
    {
        var result = new List<AllowEntry>();
        int index = 0;
        foreach (var entry in entries)
        {
            index++;
            string call = entry.Name is null ? $"{method}(#{index})" : $"{method}(\"{entry.Name}\")";
            string name = $"{(egress ? "allow" : "input")}-{index}";
            if (entry.Name is not null)
                name = rules.EntryName(entry.Name, At(call)) ?? name;
            var peers = entry.Peers is null ? []
                : rules.Destinations(Items(entry.Peers, $"{call} {(egress ? "to" : "from")}"), $"{call} {(egress ? "to" : "from")}", At(call), required: true);
            int before = rules.Diagnostics.Count;
            var tcp = rules.Ports(Items(entry.Tcp, $"{call} tcp"), $"{call} tcp");
            var udp = rules.Ports(Items(entry.Udp, $"{call} udp"), $"{call} udp");
            rules.RequirePorts(tcp, udp, before, call, name, At(call));
            result.Add(new AllowEntry(name, peers, tcp, udp, At(call)));
        }
        return result;
    }

    private List<AllowEntry> Windows(PolicyRules rules, List<AllowEntry> egress)
    {
        foreach (var (entry, text, span) in _windows)
        {
            var at = At($"Window(\"{entry}\")");
            int index = egress.FindIndex(e => e.Name == entry);
            var window = text is not null ? rules.Window(text, at) : rules.Window(span!.Value, at);
            if (index < 0)
                rules.Error(at, $"Window() names '{entry}', which is not an egress entry", "call AllowEgress with that name too, or fix the name", "window-unknown-entry");
            else if (egress[index].Window is not null)
                rules.Error(at, $"'{entry}' has two windows", "call Window() once per entry", "duplicate-key");
            else if (window is not null)
                egress[index] = new AllowEntry(egress[index].Name, egress[index].Peers, egress[index].Tcp, egress[index].Udp, egress[index].Location) { Window = window };
        }
        return egress;
    }

    private static SourceLocation At(string what) => new($"(builder) {what}", 0, 0);

    private static List<(string Text, SourceLocation Location)> Items(IReadOnlyList<string> values, string what) =>
        values.Select((value, i) => (value, At($"{what}[{i}]"))).ToList();

    private static List<string> Copy(IEnumerable<string>? values)
    {
        var list = new List<string>();
        foreach (var value in values ?? [])
        {
            ArgumentNullException.ThrowIfNull(value, nameof(values));
            list.Add(value);
        }
        return list;
    }

    private static List<string> Ports(IEnumerable<int>? ports) =>
        ports?.Select(p => p.ToString(CultureInfo.InvariantCulture)).ToList() ?? [];

    private static List<string> Ports(IEnumerable<PortRange>? ports) =>
        ports?.Select(p => p.ToString()).ToList() ?? [];
}
