using System.Text.RegularExpressions;
using NetlinkFence.Tests.Kernel;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Import.Differential;

/// <summary>The iptables-save files of the differential tests (Rulesets/, each with a header saying what it exercises)
/// and how the reference loads them: Debian's iptables-nft-restore, inside the agent's namespace only.</summary>
public static partial class Rulesets
{
    /// <summary>What <c>import</c> without <c>--ip6</c> promises for IPv6: the reference loads it next to an IPv4-only file.</summary>
    public const string IPv6Denied = "ipv6-denied.v6.rules";

    /// <summary>A file of Rulesets/ (an absolute path is taken as it is).</summary>
    public static string PathOf(string name) =>
        Path.Combine(ApplyPolicyTests.RepositoryRoot(), "tests", "NetlinkFence.Tests", "Import", "Differential", "Rulesets", name);

    /// <summary>A ruleset of the importer's own tests (tests/NetlinkFence.Tests/Import/Rulesets), put through the same matrix.</summary>
    public static string OfImportTests(string name) =>
        Path.Combine(ApplyPolicyTests.RepositoryRoot(), "tests", "NetlinkFence.Tests", "Import", "Rulesets", name);

    /// <summary>The file's text with <c>$NAME</c> and <c>${NAME}</c> replaced as a shell would (what the operator's
    /// template becomes before iptables-restore reads it); an undefined name is the test's mistake.</summary>
    public static string Expand(string text, IReadOnlyDictionary<string, string> defines) =>
        Variable().Replace(text, m =>
        {
            string name = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
            return defines.TryGetValue(name, out var value) ? value : throw new ArgumentException($"${name} is used but not defined");
        });

    /// <summary>Loads both families' rulesets with iptables-nft-restore and ip6tables-nft-restore run through
    /// <c>ip netns exec</c>, so they replace the filter tables of <paramref name="agent"/> and nothing of the host's.</summary>
    public static void LoadWithIptables(TestNamespace agent, string ipv4Rules, string ipv6Rules)
    {
        agent.Exec("iptables-nft-restore", "", ipv4Rules);
        agent.Exec("ip6tables-nft-restore", "", ipv6Rules);
        // Read back: the agent holds both filter tables (a restore that silently did nothing would make every flow
        // "agree" on being open).
        string live = agent.Nft("list tables");
        Assert.True(live.Contains("table ip filter") && live.Contains("table ip6 filter"), $"iptables-nft-restore left no filter tables in {agent.Name}:\n{live}");
    }

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Variable();
}

/// <summary>The host's own firewall as the tests must leave it: nft's view of its ruleset (iptables-nft's tables
/// are nf_tables tables, so they show here) and the legacy x_tables tables the kernel holds.</summary>
public static class HostFirewall
{
    public static string Read() =>
        TestNamespace.Run("nft", "-s list ruleset") + "\nx_tables: " + ReadIfPresent("/proc/net/ip_tables_names") + ReadIfPresent("/proc/net/ip6_tables_names");

    private static string ReadIfPresent(string path) => File.Exists(path) ? File.ReadAllText(path) : "";
}
