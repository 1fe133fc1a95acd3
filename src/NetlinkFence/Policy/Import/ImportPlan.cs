namespace NetlinkFence.Policy.Import;

/// <summary>What happened to a line of the ruleset: every line ends up in exactly one of these, so nothing goes silently.</summary>
internal enum LineFate
{
    /// <summary>Became (part of) an allow entry, cited above it.</summary>
    Entry,
    /// <summary>A <c>-j CHAIN</c>: the chain's rules are inlined where it is jumped to.</summary>
    Jump,
    /// <summary>Something every policy does by itself (loopback, established, default drop, INVALID).</summary>
    BuiltIn,
    /// <summary>A deny the policy's default drop covers.</summary>
    Denied,
    /// <summary>Became the <c>log:</c> settings (or could not, with a note).</summary>
    Log,
    /// <summary>Changes nothing (never reached, matches nothing, counts only).</summary>
    NoEffect,
    /// <summary>Cannot be expressed: listed as an error (a comment with --partial).</summary>
    NotImported,
}

/// <summary>An allow entry of the imported policy, with the lines it came from.</summary>
internal sealed class ImportedEntry
{
    public required bool Egress { get; init; }
    public required bool IPv6 { get; init; }
    public string Name { get; set; } = "";
    public string? Comment { get; init; }

    /// <summary><c>-m owner --uid-owner</c>'s uid or user name: the entry's <c>by:</c> (null: every process).</summary>
    public string? Owner { get; init; }

    /// <summary>Peers (null: any address of the family).</summary>
    public List<AddressItem>? Peers { get; set; }
    public List<PortItem> Tcp { get; } = [];
    public List<PortItem> Udp { get; } = [];
    public List<IptablesLine> Lines { get; } = [];

    /// <summary>The ports of one protocol, spelled for comparison.</summary>
    public static string Spell(IEnumerable<PortItem> ports) => string.Join(",", ports.Select(p => p.Spelling));

    public static string Spell(IEnumerable<AddressItem>? peers) => peers is null ? "*" : string.Join(",", peers.Select(p => p.Spelling));
}

/// <summary>The <c>log:</c> settings taken from LOG rules.</summary>
internal sealed record ImportedLog(string? Prefix, (ulong Count, ulong UnitSeconds)? Rate, IptablesLine Line);

/// <summary>Everything the translation found: entries, log, the fate of every line, and what could not be imported.</summary>
internal sealed class ImportPlan
{
    public List<ImportedEntry> Egress { get; } = [];
    public List<ImportedEntry> Input { get; } = [];
    public List<ImportedEntry> Resolvers { get; } = [];
    public ImportedLog? Log { get; set; }

    /// <summary>
    /// How each imported OUTPUT chain ends for what it does not accept: the REJECT line that ends it, or null (DROP, by
    /// a rule or the chain's policy). When every one rejects, the policy says <c>egress.deny: reject</c>.
    /// </summary>
    public List<IptablesLine?> EgressEnds { get; } = [];

    /// <summary>
    /// What the imported policy does with egress it does not allow: reject when every imported OUTPUT chain ends in
    /// REJECT (a policy has one action for both families), else drop.
    /// </summary>
    public DenyAction EgressDeny => EgressEnds.Count > 0 && EgressEnds.All(end => end is not null) ? DenyAction.Reject : DenyAction.Drop;

    /// <summary>Each line with its fate and a short reason, in file order (a line reached twice appears twice).</summary>
    public List<(IptablesLine Line, LineFate Fate, string Why)> Fates { get; } = [];

    /// <summary>What a policy cannot express (errors; comments with --partial).</summary>
    public List<PolicyDiagnostic> Unsupported { get; } = [];

    /// <summary>Differences that change no verdict (REJECT as drop, logging), and advice.</summary>
    public List<PolicyDiagnostic> Notes { get; } = [];
}
