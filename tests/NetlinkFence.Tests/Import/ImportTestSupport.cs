using NetlinkFence.Policy;
using NetlinkFence.Policy.Import;
using NetlinkFence.Tests.Policy;

namespace NetlinkFence.Tests.Import;

/// <summary>The test rulesets (Import/Rulesets) and imports of them, by file name so citations are stable.</summary>
internal static class ImportTestSupport
{
    public static string RulesetDirectory => Path.Combine(PolicyTestSupport.RepoRoot, "tests", "NetlinkFence.Tests", "Import", "Rulesets");

    public static string PathOf(string name) => Path.Combine(RulesetDirectory, name);

    public static IptablesSource Source(string name) => new(name, File.ReadAllText(PathOf(name)));

    /// <summary>The seed's variables, with the seed's own addresses (and two documentation addresses for the mirrors).</summary>
    public static readonly Dictionary<string, string> SeedDefines = new()
    {
        ["IRONCLAW_IP"] = "203.0.113.50",
        ["REPO_IPS"] = "198.51.100.80,198.51.100.81",
    };

    public static IptablesImportResult ImportFile(string name, IReadOnlyDictionary<string, string>? defines = null, bool partial = false, string? ipv6 = null) =>
        IptablesImporter.Import(new IptablesImportRequest
        {
            IPv4 = Source(name),
            IPv6 = ipv6 is null ? null : Source(ipv6),
            Defines = defines ?? new Dictionary<string, string>(),
            Partial = partial,
            PolicyName = Path.ChangeExtension(name, ".yaml"),
        });

    public static IptablesImportResult ImportText(string rules, IReadOnlyDictionary<string, string>? defines = null, bool partial = false) =>
        IptablesImporter.Import(new IptablesImportRequest
        {
            IPv4 = new IptablesSource("r.rules", rules),
            Defines = defines ?? new Dictionary<string, string>(),
            Partial = partial,
            PolicyName = "r.yaml",
        });

    /// <summary>An import of <paramref name="rules6"/> as the IPv6 file (r6.rules, in <see cref="Filter"/>), with an empty IPv4 filter.</summary>
    public static IptablesImportResult ImportV6(string rules6, bool partial = false) =>
        IptablesImporter.Import(new IptablesImportRequest
        {
            IPv4 = new IptablesSource("r.rules", Filter("")),
            IPv6 = new IptablesSource("r6.rules", Filter(rules6)),
            Defines = new Dictionary<string, string>(),
            Partial = partial,
            PolicyName = "r.yaml",
        });

    public static PolicyException Fails(string rules, IReadOnlyDictionary<string, string>? defines = null) =>
        Assert.Throws<PolicyException>(() => ImportText(rules, defines));

    /// <summary>A filter table around <paramref name="rules"/>: DROP policies, loopback and established accepted.</summary>
    public static string Filter(string rules) =>
        "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n"
        + "-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
        + "-A OUTPUT -o lo -j ACCEPT\n-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
        + rules + (rules.EndsWith('\n') || rules.Length == 0 ? "" : "\n") + "COMMIT\n";

    /// <summary>The neighbour discovery an IPv6 ruleset needs (five lines): NS and NA out, NS, NA and RA in with hop limit 255.</summary>
    public const string NeighbourDiscoveryAccepts =
        "-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT\n-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j ACCEPT\n"
        + "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl --hl-eq 255 -j ACCEPT\n-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -m hl --hl-eq 255 -j ACCEPT\n"
        + "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 134 -m hl --hl-eq 255 -j ACCEPT\n";

    /// <summary>Line number of <see cref="Filter"/>'s first own rule.</summary>
    public const int FirstRuleLine = 9;
}
