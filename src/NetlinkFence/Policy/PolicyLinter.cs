using System.Net;
using System.Net.Sockets;
using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Policy;

/// <summary>
/// Security findings for a policy that loads but is weak: the pitfalls argued about in the seed discussion and
/// the complaints users have about other egress tools. The loader already refuses what can never be right
/// (undefined or empty variables, entries without ports, DNS without resolvers, unknown keys); lint is for
/// what is legal but risky. Each finding has a stable <see cref="PolicyDiagnostic.Code"/>:
/// <list type="table">
/// <item><term><c>dns-to-any</c> (error)</term><description>a resolver, or an allow on port 53, covers every address (alone, or the list's networks together): DNS is a tunnel to anywhere ("UDP 53 to ANY is a massive policy leak").</description></item>
/// <item><term><c>allow-any-destination</c> (error)</term><description>an egress entry allows 0.0.0.0/0 or ::/0, or destinations that together hold every address (<c>0.0.0.0/1</c> and <c>128.0.0.0/1</c>, a range of them all): default deny is gone for those ports.</description></item>
/// <item><term><c>ssh-open-to-any</c> (error)</term><description>input TCP 22 from any source (no <c>from</c>, a /0, or sources that together hold every address).</description></item>
/// <item><term><c>no-log-prefix</c> (warning; info with an NFLOG group)</term><description>denials are dropped silently; deny logs are how new phone-home dependencies are found.</description></item>
/// <item><term><c>no-log-rate</c> (warning)</term><description>denials are logged without a rate limit: a chatty or hostile process floods the log.</description></item>
/// <item><term><c>wide-port-range</c> (warning)</term><description>a port range wider than 256 ports; the deployment should name its exact ports.</description></item>
/// <item><term><c>input-without-source</c> (warning)</term><description>an input allow without <c>from:</c> accepts the port from anywhere.</description></item>
/// <item><term><c>plaintext-syslog</c> (warning)</term><description>syslog on 514 or 601 in clear text where syslog over TLS (6514) is expected.</description></item>
/// <item><term><c>remote-log-blocked</c> (error)</term><description>no egress entry allows TCP to the <c>log.remote</c> collector: the forwarder would be blocked by the policy it reports for.</description></item>
/// <item><term><c>no-heartbeat</c> (info)</term><description><c>log.remote</c> without <c>heartbeat:</c>: the collector cannot tell a quiet host from a stopped forwarder.</description></item>
/// <item><term><c>remote-log-unverified</c> (warning)</term><description>the <c>log.remote</c> collector is a host name neither pinned nor named by an entry: whether it is reachable depends on DNS.</description></item>
/// <item><term><c>broad-cidr</c> (warning)</term><description>an egress destination shorter than /16 (IPv4) or /32 (IPv6).</description></item>
/// <item><term><c>broad-resolver</c> (warning)</term><description>a resolver given as a network, not a single address.</description></item>
/// <item><term><c>resolver-not-pinned-host</c> (warning)</term><description>a resolver given as a host name without a <c>hosts:</c> pin: finding the DNS server needs DNS.</description></item>
/// <item><term><c>dns-via-allow</c> (warning)</term><description>an egress entry opens port 53 outside <c>egress.dns.resolvers</c>.</description></item>
/// <item><term><c>dns-over-tls</c> (warning)</term><description>TCP 853 is allowed: DNS-over-TLS bypasses the named resolvers and cannot be inspected.</description></item>
/// <item><term><c>public-dns-resolver</c> (warning)</term><description>an egress entry reaches a well-known public resolver (DNS-over-HTTPS on 443 goes around yours).</description></item>
/// <item><term><c>metadata-endpoint</c> (warning)</term><description>a cloud metadata service (169.254.169.254, and the other clouds' endpoints: fd00:ec2::254, fd20:ce::254, fd00:c1::a9fe:a9fe, 100.100.100.200, Azure's WireServer 168.63.129.16) is reachable: the credential-theft path.</description></item>
/// <item><term><c>names-without-resolvers</c> (warning)</term><description>egress uses unpinned host names but DNS is denied, so the host's own lookups fail.</description></item>
/// <item><term><c>dns-name-not-pinned</c> (info)</term><description>a host name resolved by DNS at apply time; a <c>hosts:</c> pin avoids trusting DNS (poisoning).</description></item>
/// <item><term><c>public-resolver</c> (info)</term><description>a resolver is a public service: every query leaves your network.</description></item>
/// <item><term><c>plaintext-http</c> (info)</term><description>TCP 80 is allowed: fine for signed package repositories, not for anything else.</description></item>
/// <item><term><c>permanent-package-mirror</c> (info)</term><description>a well-known package repository is open all the time; the seed wants mirrors open only while updating (give the entry a <c>window:</c>).</description></item>
/// <item><term><c>long-window</c> (warning)</term><description>a <c>window:</c> longer than 2h: an update run rarely needs more, and an open window is an open door.</description></item>
/// <item><term><c>window-without-names</c> (warning)</term><description>a window entry whose destinations are only addresses (no <c>hosts:</c> pin, no DNS name): a mirror's addresses move, and a raw address says nothing about what it is.</description></item>
/// <item><term><c>window-always-open</c> (warning)</term><description>permanent entries without <c>by:</c> allow all of a window entry's destinations and ports: the window closes nothing.</description></item>
/// <item><term><c>scope-without-effect</c> (warning)</term><description>permanent entries without <c>by:</c> allow all of a scoped entry to every process: its <c>by:</c> limits nothing.</description></item>
/// <item><term><c>redundant-entry</c> (warning)</term><description>earlier entries allow all of a permanent entry: it adds nothing, and its counter stays at 0 (<see cref="EntryCoverage"/>).</description></item>
/// <item><term><c>repeated-value</c> (warning)</term><description>a destination, source or port written twice in one list (not through variables, which may overlap on purpose): allowed once, but often a slip for another value.</description></item>
/// <item><term><c>selftest-fails</c> (error)</term><description>a <c>selftest:</c> flow the policy decides the other way (an <c>allow</c> flow only a window entry or nothing allows, a <c>deny</c> flow a permanent entry allows): every apply fails its self-test: it restores the previous table, or, for a deny flow, refuses before the commit (<see cref="SelfTestCoverage"/>).</description></item>
/// <item><term><c>unscoped-service-entry</c> (info)</term><description>an egress entry without <c>by:</c> whose name is that of a service running on the host (only with the host's services passed in): scoping it to the unit keeps other processes out.</description></item>
/// <item><term><c>nothing-allowed</c> (info)</term><description>no egress entry at all: the host cannot reach its management platform.</description></item>
/// </list>
/// RELATED as a back channel (the seed's last point) is not a finding: the compiled input chain always ends
/// in drop and accepts RELATED only for ICMP errors, whatever the policy says.
/// </summary>
public static class PolicyLinter
{
    /// <summary>Port ranges wider than this many ports are reported as <c>wide-port-range</c>.</summary>
    public const int WidePortRange = 256;

    /// <summary>Windows longer than this are reported as <c>long-window</c>.</summary>
    public static readonly TimeSpan LongWindow = TimeSpan.FromHours(2);


    private static readonly HashSet<IPAddress> PublicResolverAddresses =
    [
        .. new[]
        {
            "8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112", "208.67.222.222", "208.67.220.220",
            "94.140.14.14", "94.140.15.15", "2001:4860:4860::8888", "2001:4860:4860::8844", "2606:4700:4700::1111",
            "2606:4700:4700::1001", "2620:fe::fe", "2620:fe::9", "2620:119:35::35", "2620:119:53::53",
        }.Select(IPAddress.Parse),
    ];

    private static readonly HashSet<string> PublicResolverNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "dns.google", "dns.google.com", "cloudflare-dns.com", "one.one.one.one", "1dot1dot1dot1.cloudflare-dns.com",
        "dns.quad9.net", "doh.opendns.com", "dns.adguard-dns.com", "mozilla.cloudflare-dns.com", "dns.nextdns.io",
    };

    private static readonly string[] PackageMirrorSuffixes =
    [
        "deb.debian.org", "security.debian.org", "archive.ubuntu.com", "security.ubuntu.com", "ports.ubuntu.com",
        "dl-cdn.alpinelinux.org", "mirrors.fedoraproject.org", "dl.fedoraproject.org", "mirror.centos.org",
        "download.opensuse.org", "registry.npmjs.org", "pypi.org", "files.pythonhosted.org", "api.nuget.org",
        "proxy.golang.org", "crates.io", "static.crates.io", "rubygems.org", "packages.microsoft.com",
    ];

    /// <summary>Returns every finding, in file order.</summary>
    public static IReadOnlyList<PolicyDiagnostic> Lint(EgressPolicy policy) => Lint(policy, []);

    /// <summary>
    /// Returns every finding, in file order, including <c>unscoped-service-entry</c> suggestions for the
    /// <paramref name="services"/> running on the host (unit names such as <c>chrony.service</c>, e.g. from
    /// <c>HostServices.Services()</c>); lint itself reads nothing from the host.
    /// </summary>
    public static IReadOnlyList<PolicyDiagnostic> Lint(EgressPolicy policy, IReadOnlyCollection<string> services) => Lint(policy, services, []);

    /// <summary>
    /// As <see cref="Lint(EgressPolicy, IReadOnlyCollection{string})"/>, knowing the addresses of the host (or network
    /// namespace) the policy is for, e.g. its interfaces' addresses: a <c>selftest:</c> flow to one of them goes over
    /// loopback, which every policy allows, so <c>selftest-fails</c> judges it allowed (an <c>allow</c> flow passes, a
    /// <c>deny</c> flow fails every apply).
    /// </summary>
    public static IReadOnlyList<PolicyDiagnostic> Lint(EgressPolicy policy, IReadOnlyCollection<string> services, IReadOnlyCollection<IPAddress> hostAddresses)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(hostAddresses);
        var findings = new List<PolicyDiagnostic>();
        void Add(Severity severity, SourceLocation location, string code, string message, string fix) =>
            findings.Add(new PolicyDiagnostic(severity, location, message, fix, code));
        var top = policy.Source == SourceLocation.Code.File ? SourceLocation.Code : new SourceLocation(policy.Source, 1, 1);
        findings.AddRange(policy.ReadNotes);

        // Logging.
        if (policy.Log.Prefix is null)
        {
            if (policy.Log.Group is null)
                Add(Severity.Warning, top, "no-log-prefix", $"denied packets are {DeniedPackets(policy)} without a log line",
                    "add 'log: { prefix: \"EGRESS-DENIED: \", rate: 10/second }': deny logs show what the host tried to reach");
            else
                Add(Severity.Info, top, "no-log-prefix", "denials go to NFLOG without a prefix",
                    "add 'prefix:' so log lines say which policy denied them");
        }
        if ((policy.Log.Prefix is not null || policy.Log.Group is not null) && policy.Log.RatePerSecond is null)
            Add(Severity.Warning, top, "no-log-rate", "denials are logged without a rate limit: one busy process can flood the log",
                $"add 'rate: 10/second' under log: (packets are still all {DeniedPackets(policy)}; only log lines are limited)");

        if (policy.Log.Remote is { } remote)
        {
            foreach (var collector in remote.Collectors)
            {
                string endpoint = RemoteLogSettings.FormatEndpoint(collector);
                string role = collector.Host == remote.Host && collector.Port == remote.Port ? "" : "fallback ";
                switch (RemoteLogRules.Reachable(policy, collector, out _))
                {
                    case false:
                        Add(Severity.Error, remote.Location, "remote-log-blocked",
                            $"log.remote {role}{endpoint} is not reachable: no egress entry allows tcp/{collector.Port} to {collector.Host}, so the policy blocks its own denial forwarder",
                            $"add an entry such as '- {{ name: syslog-tls, to: [{collector.Host}], tcp: [{collector.Port}] }}' under egress.allow");
                        break;
                    case null:
                        Add(Severity.Warning, remote.Location, "remote-log-unverified",
                            $"log.remote {role}host '{collector.Host}' is neither pinned nor named by an egress entry: whether tcp/{collector.Port} to it is allowed depends on what DNS answers",
                            $"pin '{collector.Host}' under 'hosts:' and allow it, e.g. '- {{ name: syslog-tls, to: [{collector.Host}], tcp: [{collector.Port}] }}'");
                        break;
                }
            }
            if (remote.Heartbeat is null)
                Add(Severity.Info, remote.Location, "no-heartbeat",
                    $"log.remote {remote.Endpoint} hears from this host only when something is denied: it cannot tell a quiet host from a forwarder that stopped",
                    "add 'heartbeat: 5m' under log.remote: the daemon then vouches for the table every 5 minutes, and a missing heartbeat is an alert");
        }

        // DNS.
        foreach (var resolver in policy.Resolvers)
        {
            if (IsAny(resolver))
                Add(Severity.Error, resolver.Location, "dns-to-any", $"DNS is allowed to any address ({resolver.Text}): a tunnel to anywhere",
                    "name your internal resolvers, e.g. 'resolvers: [192.168.1.10]'");
            else if (resolver.Network is { } network && !IsSingleHost(network))
                Add(Severity.Warning, resolver.Location, "broad-resolver", $"resolver {resolver.Text} is a whole network, not one server",
                    "list the resolver addresses one by one");
            else if (resolver.HostName is { } host && !policy.Hosts.ContainsKey(host))
                Add(Severity.Warning, resolver.Location, "resolver-not-pinned-host", $"resolver '{host}' is a name that must itself be looked up in DNS",
                    $"write the resolver's address, or pin '{host}' under 'hosts:'");
            if (IsPublicResolver(resolver, policy))
                Add(Severity.Info, resolver.Location, "public-resolver", $"resolver {resolver.Text} is a public DNS service: every lookup leaves your network",
                    "prefer an internal resolver you can log and filter");
        }

        if (!policy.Resolvers.Any(IsAny) && EveryAddress(policy.Resolvers) is { } allResolvers)
            Add(Severity.Error, policy.Resolvers[0].Location, "dns-to-any", $"the resolvers together hold every {allResolvers} address: DNS is a tunnel to anywhere",
                "name your internal resolvers, e.g. 'resolvers: [192.168.1.10]'");

        bool hasUnpinnedNames = false;
        foreach (var entry in policy.Egress)
        {
            string? everyAddress = EveryAddress(entry.Peers);
            if (Opens(entry, 53))
            {
                if (everyAddress is not null)
                    Add(Severity.Error, entry.Location, "dns-to-any", $"'{entry.Name}' allows port 53 to any address: DNS becomes a tunnel to anywhere",
                        "remove port 53 here and list your resolvers under 'egress.dns.resolvers'");
                else
                    Add(Severity.Warning, entry.Location, "dns-via-allow", $"'{entry.Name}' opens port 53 outside 'egress.dns.resolvers'",
                        "move the resolvers to 'egress.dns.resolvers' (udp and tcp 53, nothing else)");
            }
            if (entry.Tcp.Any(r => r.First <= 853 && 853 <= r.Last))
                Add(Severity.Warning, entry.Location, "dns-over-tls", $"'{entry.Name}' allows TCP 853 (DNS over TLS), which goes around your resolvers unseen",
                    "remove 853 unless this entry is your own DoT resolver");
            foreach (var peer in entry.Peers)
            {
                if (IsAny(peer))
                {
                    Add(Severity.Error, peer.Location, "allow-any-destination", $"'{entry.Name}' allows {peer.Text}: every address on {Ports(entry)}",
                        "name the destinations (addresses, CIDRs, pinned hosts); default deny is the point");
                    continue;
                }
                if (peer.Network is { } network)
                {
                    int minimum = network.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 16 : 32;
                    if (network.PrefixLength < minimum)
                        Add(Severity.Warning, peer.Location, "broad-cidr", $"'{entry.Name}' allows {peer.Text}, a network of more than a /{minimum}",
                            "narrow it to the addresses the host really talks to");
                    if (CloudMetadata.Endpoints.FirstOrDefault(e => network.Contains(e.Address)) is { What: { } what } endpoint)
                        Add(Severity.Warning, peer.Location, "metadata-endpoint", $"'{entry.Name}' reaches {what}, {endpoint.Address}, through {peer.Text}",
                            $"exclude {endpoint.Address} unless the agent must read instance metadata (the clouds' endpoints: {CloudMetadata.Addresses})");
                }
                if (peer.HostName is { } host && !policy.Hosts.ContainsKey(host))
                {
                    hasUnpinnedNames = true;
                    Add(Severity.Info, peer.Location, "dns-name-not-pinned", $"'{host}' is trusted to whatever DNS answers when the policy is applied",
                        $"pin it under 'hosts:' ('{host}: [address]') unless its addresses rotate (CDNs, mirrors)");
                }
                if (entry.Window is null && peer.HostName is { } name && PackageMirrorSuffixes.Any(m => name == m || name.EndsWith("." + m, StringComparison.Ordinal)))
                    Add(Severity.Info, peer.Location, "permanent-package-mirror", $"package repository '{name}' is reachable all the time, not only while updating",
                        $"add 'window: 30m' to '{entry.Name}': it stays closed until 'netlinkfence open {entry.Name}', and the kernel closes it again");
                if (IsPublicResolver(peer, policy))
                    Add(Severity.Warning, peer.Location, "public-dns-resolver", $"'{entry.Name}' reaches public resolver {peer.Text}: DNS over HTTPS or TLS goes around yours",
                        "remove it; lookups go to 'egress.dns.resolvers'");
            }
            if (everyAddress is not null && !entry.Peers.Any(IsAny)) // a /0 alone is reported at itself, above
                Add(Severity.Error, entry.Location, "allow-any-destination",
                    $"'{entry.Name}' allows every {everyAddress} address on {Ports(entry)}: its destinations together leave none out",
                    "name the destinations (addresses, CIDRs, pinned hosts); default deny is the point");
            CheckPorts(entry, Add);
            if (entry.Window is { } window && window > LongWindow)
                Add(Severity.Warning, entry.Location, "long-window", $"'{entry.Name}' may stay open for {WindowDuration.Format(window)}",
                    $"an update run rarely needs more than {WindowDuration.Format(LongWindow)}: shorten 'window:' (open it again when needed)");
            if (entry.Window is not null && !entry.Peers.Any(p => p.HostName is not null))
                Add(Severity.Warning, entry.Location, "window-without-names", $"window entry '{entry.Name}' names only addresses, no host (pinned or DNS)",
                    "name the repository's host in 'to:' (pin it under 'hosts:' or let DNS resolve it): mirror addresses move");
            if (entry.Tcp.Concat(entry.Udp).Any(r => (r.First <= 514 && 514 <= r.Last) || (r.First <= 601 && 601 <= r.Last)) && !IsWide(entry))
                Add(Severity.Warning, entry.Location, "plaintext-syslog", $"'{entry.Name}' sends syslog in clear text (514/601)",
                    "use syslog over TLS to the collector: 'tcp: [6514]'");
            if (entry.Tcp.Any(r => r.First <= 80 && 80 <= r.Last) && !IsWide(entry))
                Add(Severity.Info, entry.Location, "plaintext-http", $"'{entry.Name}' allows TCP 80 (clear-text HTTP)",
                    "fine for signed package repositories; anything else should use 443");
            if (entry.By.Count == 0 && services.Where(s => ServiceNamed(entry.Name, s)).Order(StringComparer.Ordinal).ToList() is { Count: > 0 } named)
                Add(Severity.Info, entry.Location, "unscoped-service-entry",
                    $"'{entry.Name}' has no 'by:', but {string.Join(", ", named)} runs on this host: every process may use this entry, not only that service",
                    $"add 'by: {{ unit: {named[0]} }}' so only the service reaches it ('netlinkfence learn' shows which cgroup sends)");
        }
        findings.AddRange(EntryCoverage.Findings(policy));
        findings.AddRange(SelfTestCoverage.Findings(policy, hostAddresses));
        if (hasUnpinnedNames || policy.Input.Any(e => e.Peers.Any(p => p.HostName is { } h && !policy.Hosts.ContainsKey(h))))
            Add(Severity.Info, top, "names-not-refreshed", "host names that are not pinned are resolved once by 'apply' and not refreshed without the daemon",
                "run 'netlinkfence run POLICY' to have them follow DNS (re-resolved at their TTL, addresses expiring in the kernel), or pin them under 'hosts:'");
        if (hasUnpinnedNames && policy.Resolvers.Count == 0)
            Add(Severity.Warning, top, "names-without-resolvers", "egress uses host names that are not pinned, but DNS is denied: the host's own lookups of them will fail",
                "add 'egress.dns.resolvers', or pin every name under 'hosts:' (and in /etc/hosts)");
        if (policy.Egress.Count == 0)
            Add(Severity.Info, top, "nothing-allowed", "no egress is allowed: the host cannot reach its management platform",
                "add the management channel, e.g. '- { name: control, to: [api.example], tcp: [443] }'");

        foreach (var entry in policy.Input)
        {
            bool anySource = entry.Peers.Count == 0 || EveryAddress(entry.Peers) is not null;
            if (anySource && entry.Tcp.Any(r => r.First <= 22 && 22 <= r.Last))
                Add(Severity.Error, entry.Location, "ssh-open-to-any", $"'{entry.Name}' accepts SSH from any address",
                    "add 'from:' with your management network, e.g. 'from: [10.0.0.0/8]'");
            else if (anySource)
                Add(Severity.Warning, entry.Location, "input-without-source", $"'{entry.Name}' accepts {Ports(entry)} from any address",
                    "add 'from:' with the sources that need it");
            foreach (var peer in entry.Peers.Where(p => p.HostName is { } h && !policy.Hosts.ContainsKey(h)))
                Add(Severity.Info, peer.Location, "dns-name-not-pinned", $"source '{peer.HostName}' is trusted to whatever DNS answers when the policy is applied",
                    $"pin it under 'hosts:'");
            CheckPorts(entry, Add);
        }

        // Distinct: the networks one address range was read as share its text and location, and would each say the same.
        return findings.Distinct().OrderBy(f => f.Location.Line).ThenBy(f => f.Location.Column).ThenByDescending(f => f.Severity).ThenBy(f => f.Code, StringComparer.Ordinal).ToList();
    }

    private static void CheckPorts(AllowEntry entry, Action<Severity, SourceLocation, string, string, string> add)
    {
        foreach (var (protocol, range) in entry.Tcp.Select(r => ("tcp", r)).Concat(entry.Udp.Select(r => ("udp", r))))
        {
            if (range.Count > WidePortRange)
                add(Severity.Warning, entry.Location, "wide-port-range", $"'{entry.Name}' opens {range.Count} {protocol} ports ({range})",
                    "name the exact ports the deployment uses");
        }
    }

    /// <summary>
    /// Whether entry <paramref name="entry"/> plausibly belongs to <paramref name="service"/>: the unit's name (without
    /// <c>.service</c> and a template instance) is the entry's name or one of its dash/underscore-separated words of 3
    /// characters or more, or that plus the daemon's <c>d</c> (entry <c>chrony</c>, unit <c>chronyd.service</c>).
    /// Names only: an entry called <c>updates</c> says nothing about <c>apt-daily.service</c>, and guessing would be noise.
    /// </summary>
    internal static bool ServiceNamed(string entry, string service)
    {
        if (!service.EndsWith(".service", StringComparison.Ordinal))
            return false;
        string unit = service[..^".service".Length];
        if (unit.IndexOf('@', StringComparison.Ordinal) is >= 0 and var at)
            unit = unit[..at];
        if (unit.Length == 0)
            return false;
        var words = entry.Split(['-', '_', '.'], StringSplitOptions.RemoveEmptyEntries).Where(w => w.Length >= 3).Prepend(entry);
        return words.Any(w => string.Equals(unit, w, StringComparison.OrdinalIgnoreCase) || string.Equals(unit, w + "d", StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsWide(AllowEntry entry) => entry.Tcp.Concat(entry.Udp).Any(r => r.Count > WidePortRange);

    private static bool Opens(AllowEntry entry, int port) => entry.Tcp.Concat(entry.Udp).Any(r => r.First <= port && port <= r.Last);

    private static bool IsAny(Destination destination) => destination.Network is { PrefixLength: 0 };

    /// <summary>
    /// "IPv4" or "IPv6" when the networks among <paramref name="destinations"/> hold every address of that family, alone
    /// (a /0) or between them (<c>0.0.0.0/1</c> and <c>128.0.0.0/1</c>, a range from 0.0.0.0 to 255.255.255.255).
    /// </summary>
    private static string? EveryAddress(IReadOnlyList<Destination> destinations)
    {
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            UInt128 next = 0; // the lowest address no network held so far
            foreach (var (first, last) in destinations.Select(d => d.Network).OfType<IPNetwork>()
                .Where(n => n.BaseAddress.AddressFamily == family).Select(AddressMath.Range).OrderBy(r => r.First))
            {
                if (first > next)
                    break;
                if (last == AddressMath.Max(family))
                    return family == AddressFamily.InterNetwork ? "IPv4" : "IPv6";
                next = UInt128.Max(next, last + 1);
            }
        }
        return null;
    }

    private static bool IsSingleHost(IPNetwork network) => network.PrefixLength == network.BaseAddress.GetAddressBytes().Length * 8;

    private static bool IsPublicResolver(Destination destination, EgressPolicy policy) =>
        destination.Network is { } network ? IsSingleHost(network) && PublicResolverAddresses.Contains(network.BaseAddress)
        : destination.HostName is { } host && (PublicResolverNames.Contains(host)
            || (policy.Hosts.TryGetValue(host, out var pinned) && pinned.Any(PublicResolverAddresses.Contains)));

    private static string Ports(AllowEntry entry) =>
        string.Join(", ", entry.Tcp.Select(r => $"tcp {r}").Concat(entry.Udp.Select(r => $"udp {r}")));

    /// <summary>What the policy does with a denied packet, in words: egress follows <c>egress.deny</c>, input is always dropped.</summary>
    private static string DeniedPackets(EgressPolicy policy) =>
        policy.EgressDeny == DenyAction.Reject ? "rejected (egress) or dropped (input)" : "dropped";
}
