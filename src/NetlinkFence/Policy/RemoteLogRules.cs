using System.Globalization;
using System.Net;

namespace NetlinkFence.Policy;

/// <summary>The checks of <c>log.remote</c>, shared by the YAML reader and <see cref="PolicyBuilder"/>.</summary>
internal static class RemoteLogRules
{
    public const int MaxQueue = 1_000_000;

    /// <summary>The shortest and longest <c>heartbeat:</c>.</summary>
    public static readonly TimeSpan MinHeartbeat = TimeSpan.FromSeconds(10), MaxHeartbeat = TimeSpan.FromHours(24);

    /// <summary>The shortest and longest <c>failback:</c>.</summary>
    public static readonly TimeSpan MinFailback = TimeSpan.FromSeconds(30), MaxFailback = TimeSpan.FromHours(24);

    /// <summary>
    /// Checks every field and returns the settings, or null after reporting what is wrong. <paramref name="tls"/> names
    /// the collectors, the first preferred, each <c>host:port</c>, <c>[v6]:port</c> or <c>$variable:port</c> (a
    /// variable holding one address or name); null when the key is missing.
    /// </summary>
    public static RemoteLogSettings? Check(PolicyRules rules, SourceLocation where,
        IReadOnlyList<(string Text, SourceLocation Location)>? tls, (string Text, SourceLocation Location)? ca,
        (string Text, SourceLocation Location)? certificate, (string Text, SourceLocation Location)? key,
        (string Text, SourceLocation Location)? queue, (string Text, SourceLocation Location)? heartbeat = null,
        (string Text, SourceLocation Location)? failback = null)
    {
        int before = rules.Diagnostics.Count;
        var collectors = new List<(string Host, int Port)>();
        if (tls is null || tls.Count == 0)
            rules.Error(where, tls is null ? "log.remote has no 'tls'" : "log.remote 'tls' names no collector",
                "name the collector, e.g. 'tls: \"192.168.1.20:6514\"', or several, the first preferred: 'tls: [\"192.168.1.20:6514\", \"192.168.1.21:6514\"]'", "remote-without-tls");
        else
        {
            foreach (var (text, location) in tls)
            {
                if (Endpoint(rules, text, location) is not { } endpoint)
                    continue;
                if (collectors.Any(c => string.Equals(c.Host, endpoint.Host, StringComparison.OrdinalIgnoreCase) && c.Port == endpoint.Port))
                    rules.Error(location, $"log.remote tls names {text} twice", "name each collector once, the preferred first", "bad-remote-endpoint");
                else
                    collectors.Add(endpoint);
            }
        }
        if (ca is not { } c)
            rules.Error(where, "log.remote has no 'ca'", "name the PEM file of the CA that signed the collector's certificate, e.g. 'ca: /etc/netlinkfence/ca.pem' (the system's CAs are never trusted for it)", "remote-without-ca");
        else
            FilePath(rules, c.Text, c.Location, "ca");
        if (certificate is { } cert)
            FilePath(rules, cert.Text, cert.Location, "cert");
        if (key is { } k)
            FilePath(rules, k.Text, k.Location, "key");
        if ((certificate is null) != (key is null))
            rules.Error((certificate ?? key)!.Value.Location, certificate is null ? "log.remote has a 'key' but no 'cert'" : "log.remote has a 'cert' but no 'key'",
                "give both the client certificate and its key, or neither", "remote-cert-without-key");
        int size = RemoteLogSettings.DefaultQueue;
        if (queue is { } q)
        {
            if (!int.TryParse(q.Text, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxQueue)
                rules.Error(q.Location, $"log.remote queue '{q.Text}' is not a number from 1 to {MaxQueue:N0}", "give how many denials to hold while the collector is unreachable, e.g. 'queue: 10000'", "bad-remote-queue");
        }
        TimeSpan? every = heartbeat is { } h ? Duration(rules, h, "heartbeat", MinHeartbeat, MaxHeartbeat,
            "write how often the collector hears from the forwarder, 10s to 24h, e.g. 'heartbeat: 5m'") : null;
        TimeSpan? failbackAfter = failback is { } f ? Duration(rules, f, "failback", MinFailback, MaxFailback,
            "write how often the first collector is tried again while a fallback takes the denials, 30s to 24h, e.g. 'failback: 5m'") : null;
        if (failbackAfter is not null && tls is { Count: 1 })
            rules.Error(failback!.Value.Location, "log.remote failback is set, but tls names one collector: there is no fallback to come back from",
                "list a fallback after the first collector, e.g. 'tls: [\"192.168.1.20:6514\", \"192.168.2.20:6514\"]', or remove 'failback:'", "bad-remote-failback");
        if (rules.Diagnostics.Count != before || collectors.Count == 0)
            return null;
        return new RemoteLogSettings(collectors[0].Host, collectors[0].Port, ca!.Value.Text, certificate?.Text, key?.Text, size, where)
        {
            Heartbeat = every,
            Failback = failbackAfter,
            Fallbacks = collectors.Skip(1).Select(c => new DnsEndPoint(c.Host, c.Port)).ToArray(),
        };
    }

    /// <summary>A duration key of <c>log.remote</c> from <paramref name="min"/> to <paramref name="max"/>, or null after saying what is wrong (<c>bad-remote-KEY</c>).</summary>
    private static TimeSpan? Duration(PolicyRules rules, (string Text, SourceLocation Location) field, string key, TimeSpan min, TimeSpan max, string fix)
    {
        var value = WindowDuration.Parse(field.Text);
        if (value is not null && value >= min && value <= max)
            return value;
        rules.Error(field.Location, value is null ? $"log.remote {key} '{field.Text}' is not a duration" : $"log.remote {key} {field.Text} is out of range", fix, $"bad-remote-{key}");
        return null;
    }

    private static (string Host, int Port)? Endpoint(PolicyRules rules, string text, SourceLocation location)
    {
        const string Fix = "write the collector as address:port, e.g. \"192.168.1.20:6514\", \"[2001:db8::20]:6514\", \"collector.example:6514\" or \"$collector:6514\"";
        string hostText, portText;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                rules.Error(location, $"log.remote tls '{text}' is not an address:port", Fix, "bad-remote-endpoint");
                return null;
            }
            hostText = text[1..close];
            portText = text[(close + 2)..];
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':') != colon)
            {
                rules.Error(location, $"log.remote tls '{text}' is not an address:port" + (colon > 0 ? " (an IPv6 address goes in brackets)" : ""), Fix, "bad-remote-endpoint");
                return null;
            }
            hostText = text[..colon];
            portText = text[(colon + 1)..];
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            rules.Error(location, $"log.remote tls '{text}' has no valid port ('{portText}')", "ports are 1 to 65535; syslog over TLS is 6514", "bad-remote-endpoint");
            return null;
        }
        int before = rules.Diagnostics.Count;
        var hosts = rules.Expand([(hostText, location)]);
        if (rules.Diagnostics.Count != before)
            return null;
        if (hosts.Count != 1)
        {
            rules.Error(location, $"log.remote tls '{text}' names {hosts.Count} collectors", "name one collector (a variable holding one address)", "bad-remote-endpoint");
            return null;
        }
        var destination = AddressParser.Parse(hosts[0].Text, location, out string? error, out string? fix);
        if (destination is null)
        {
            rules.Error(location, error!, fix!, "bad-remote-endpoint");
            return null;
        }
        if (destination.Network is { } network && network.PrefixLength != network.BaseAddress.GetAddressBytes().Length * 8)
        {
            rules.Error(location, $"log.remote tls '{text}' is a network, not one collector", Fix, "bad-remote-endpoint");
            return null;
        }
        return (destination.Network?.BaseAddress.ToString() ?? destination.HostName!, port);
    }

    private static void FilePath(PolicyRules rules, string path, SourceLocation location, string key)
    {
        if (!Path.IsPathRooted(path))
            rules.Error(location, $"log.remote {key} '{path}' is not an absolute path", "write the full path (e.g. /etc/netlinkfence/ca.pem): the forwarder may run from any directory", "relative-remote-file");
    }

    /// <summary>
    /// Whether egress lets the forwarder reach a collector: true when an egress entry allows TCP to its port
    /// and to every address it has (a pinned name's addresses), false when none does, null when that depends on
    /// DNS (a name neither pinned nor named by an entry). <paramref name="entry"/> is the first entry that allows it.
    /// </summary>
    public static bool? Reachable(EgressPolicy policy, DnsEndPoint collector, out AllowEntry? entry)
    {
        entry = null;
        var port = collector.Port;
        var candidates = policy.Egress.Where(e => e.Tcp.Any(r => r.First <= port && port <= r.Last)).ToList();
        if (IPAddress.TryParse(collector.Host, out var address))
        {
            entry = candidates.FirstOrDefault(e => e.Peers.Any(p => p.HoldsWithoutDns(address, policy.Hosts)));
            return entry is not null;
        }
        string name = collector.Host.ToLowerInvariant();
        entry = candidates.FirstOrDefault(e => e.Peers.Any(p => p.HostName == name));
        if (entry is not null)
            return true;
        if (!policy.Hosts.TryGetValue(name, out var pinned))
            return null;
        var covering = pinned.Select(a => candidates.FirstOrDefault(e => e.Peers.Any(p => p.HoldsWithoutDns(a, policy.Hosts)))).ToList();
        entry = covering.FirstOrDefault();
        return covering.All(e => e is not null);
    }
}
