namespace NetlinkFence.Policy.Import;

/// <summary>A saved file's name and text: iptables-save, ip6tables-save or <c>ipset save</c> output.</summary>
/// <param name="Name">The file name, used in messages and citations.</param>
/// <param name="Text">Its content.</param>
public sealed record IptablesSource(string Name, string Text);

/// <summary>What to import and how.</summary>
public sealed record IptablesImportRequest
{
    /// <summary>The iptables-save output (IPv4).</summary>
    public required IptablesSource IPv4 { get; init; }

    /// <summary>The ip6tables-save output (IPv6); without it, the policy denies IPv6.</summary>
    public IptablesSource? IPv6 { get; init; }

    /// <summary>
    /// The <c>ipset save</c> output of the same host: the members of the sets that <c>-m set --match-set</c> names
    /// (address sets: hash:ip, hash:net, bitmap:ip; address-and-port sets: hash:ip,port, hash:net,port; list:set of
    /// either, as the sets of the rule's family it holds). Each address set a rule uses becomes a <c>define:</c>
    /// variable; a rule of an address-and-port set becomes one entry for each group of addresses with the same ports.
    /// </summary>
    public IptablesSource? Ipsets { get; init; }

    /// <summary>Values of shell variables (<c>$NAME</c>, <c>${NAME}</c>) left in the rulesets; a comma list for several values.</summary>
    public IReadOnlyDictionary<string, string> Defines { get; init; } = new Dictionary<string, string>();

    /// <summary>Import what can be expressed and leave the rest as comments, instead of failing.</summary>
    public bool Partial { get; init; }

    /// <summary>The name the policy will have (in lint locations).</summary>
    public string PolicyName { get; init; } = "imported.yaml";
}

/// <summary>The imported policy and what the import found.</summary>
public sealed class IptablesImportResult
{
    internal IptablesImportResult(string yaml, EgressPolicy policy, IReadOnlyList<PolicyDiagnostic> notImported, IReadOnlyList<PolicyDiagnostic> notes, IReadOnlyList<PolicyDiagnostic> lint)
    {
        Yaml = yaml;
        Policy = policy;
        NotImported = notImported;
        Notes = notes;
        Lint = lint;
    }

    /// <summary>The policy file (YAML, version 1), with comments citing the ruleset.</summary>
    public string Yaml { get; }

    /// <summary>The policy, as <see cref="PolicyLoader"/> reads <see cref="Yaml"/>.</summary>
    public EgressPolicy Policy { get; }

    /// <summary>Lines a policy cannot express (only with <see cref="IptablesImportRequest.Partial"/>; otherwise the import throws).</summary>
    public IReadOnlyList<PolicyDiagnostic> NotImported { get; }

    /// <summary>Differences that change no allow/deny verdict (REJECT becomes a drop, logging) and advice.</summary>
    public IReadOnlyList<PolicyDiagnostic> Notes { get; }

    /// <summary><see cref="PolicyLinter"/>'s findings on the policy (locations in <see cref="Yaml"/>).</summary>
    public IReadOnlyList<PolicyDiagnostic> Lint { get; }
}
