using System.Net;

namespace NetlinkFence.Policy.Import;

/// <summary>A line of an iptables-save file: where it is and what it says (for citations in the imported policy).</summary>
internal sealed record IptablesLine(string File, int Number, string Text)
{
    public SourceLocation At(int column = 1) => new(File, Number, column);

    public override string ToString() => $"{File}:{Number}";
}

/// <summary>Connection tracking states of <c>-m state --state</c> and <c>-m conntrack --ctstate</c>.</summary>
[Flags]
internal enum ConnState
{
    None = 0,
    New = 1,
    Established = 2,
    Related = 4,
    Invalid = 8,
    Untracked = 16,
    Snat = 32,
    Dnat = 64,
    All = New | Established | Related | Invalid | Untracked | Snat | Dnat,
}

/// <summary>
/// One item of an address list as written (<c>10.0.0.0/8</c>, or <c>$REPO_IPS</c>), with the networks it stands for.
/// <paramref name="Range"/>: an <c>-m iprange</c> range, which the policy writes as a range too.
/// </summary>
internal sealed record AddressItem(string Spelling, IReadOnlyList<IPNetwork> Networks, string? Variable = null, bool Range = false);

/// <summary>One item of a port list as written (<c>443</c>, <c>8000:8100</c>, or <c>$PORT</c>), with its ranges (0..65535).</summary>
internal sealed record PortItem(string Spelling, IReadOnlyList<(int First, int Last)> Ranges, string? Variable = null);

/// <summary>The matches and target of one <c>-A</c> line, parsed; what could not be understood is in <see cref="Unsupported"/>.</summary>
internal sealed class IptablesRule
{
    public required IptablesLine Line { get; init; }
    public required string Chain { get; init; }
    public string? Protocol { get; set; }
    public IReadOnlyList<AddressItem>? Sources { get; set; }
    public IReadOnlyList<AddressItem>? Destinations { get; set; }
    public string? InInterface { get; set; }
    public string? OutInterface { get; set; }
    public IReadOnlyList<PortItem>? DestinationPorts { get; set; }
    public IReadOnlyList<PortItem>? SourcePorts { get; set; }
    public ConnState? States { get; set; }
    public string? Comment { get; set; }
    public (ulong Count, ulong UnitSeconds)? Limit { get; set; }
    public string? LimitBurst { get; set; }
    public string? IcmpType { get; set; }

    /// <summary><c>-m owner --uid-owner X</c>: the sending socket's user, a uid or a user name as written.</summary>
    public string? UidOwner { get; set; }

    /// <summary><c>-m hl --hl-eq N</c> (ip6tables): the packet's hop limit.</summary>
    public string? HopLimit { get; set; }

    /// <summary>
    /// <c>-m addrtype --dst-type TYPE[,TYPE]</c>: the kinds of destination address matched (LOCAL, BROADCAST, ...), upper
    /// case. Never imported as a condition (the rule is unsupported), but a run of RETURNs that together return every
    /// packet INPUT sees is understood (<see cref="AddressTypeReturns"/>).
    /// </summary>
    public IReadOnlyList<string>? DestinationTypes { get; set; }

    /// <summary>
    /// <c>-m rt --rt-type 0</c> (ip6tables, not negated): IPv6 packets with a type 0 routing header. Never imported as a
    /// condition (the rule is unsupported), but a DROP or REJECT of them is what the policy's built-in drop does.
    /// </summary>
    public bool RoutingHeaderZero { get; set; }
    public string? Target { get; set; }
    public int TargetColumn { get; set; }
    public bool TargetIsChain { get; set; }
    public string? LogPrefix { get; set; }
    public string? RejectWith { get; set; }

    /// <summary>
    /// <c>-m set --match-set NAME dst,dst</c> of an address-and-port set: the rule stands for one rule per protocol
    /// and port list the set's addresses share (<see cref="IpsetPortRules"/>).
    /// </summary>
    public IptablesSetPorts? SetPorts { get; set; }

    /// <summary>Why this rule's matches cannot be expressed (unknown match, negation, option): each with its column.</summary>
    public List<(int Column, string Reason)> Unsupported { get; private set; } = [];

    /// <summary>Options that change no verdict and are not imported (LOG's --log-level, ...).</summary>
    public List<string> Ignored { get; private set; } = [];

    /// <summary>The same rule with lists of its own, for a line that stands for several rules.</summary>
    public IptablesRule Copy()
    {
        var copy = (IptablesRule)MemberwiseClone();
        copy.Unsupported = [.. Unsupported];
        copy.Ignored = [.. Ignored];
        return copy;
    }
}

/// <summary>
/// An address-and-port set a rule matches: which side of the packet its address is compared with, which side its
/// port, and where the rule names it.
/// </summary>
internal sealed record IptablesSetPorts(IpsetSet Set, bool AddressIsSource, bool PortIsSource, int Column);

/// <summary>A chain of a table: its policy (built-in chains) and its rules in order.</summary>
internal sealed class IptablesChain(string name, string? policy, IptablesLine declaration)
{
    public string Name { get; } = name;

    /// <summary>ACCEPT or DROP for a built-in chain; null for a user-defined chain ('-').</summary>
    public string? Policy { get; set; } = policy;

    public IptablesLine Declaration { get; set; } = declaration;

    public bool Declared { get; set; } = true;

    public List<IptablesRule> Rules { get; } = [];
}

/// <summary>A <c>*table</c> ... <c>COMMIT</c> block.</summary>
internal sealed class IptablesTable(string name, IptablesLine header)
{
    public string Name { get; } = name;
    public IptablesLine Header { get; } = header;
    public Dictionary<string, IptablesChain> Chains { get; } = new(StringComparer.Ordinal);
    public List<IptablesChain> ChainOrder { get; } = [];
}

/// <summary>A whole iptables-save (or ip6tables-save) file.</summary>
internal sealed class IptablesRuleset(string file, bool ipv6)
{
    public string File { get; } = file;
    public bool IPv6 { get; } = ipv6;
    public List<IptablesTable> Tables { get; } = [];

    /// <summary>Comment lines ('#') right before a line, by that line's number (copied into the policy).</summary>
    public Dictionary<int, List<string>> CommentsBefore { get; } = [];

    /// <summary>The ipsets imported rules match, by the variable the policy names their members with.</summary>
    public Dictionary<string, IpsetSet> Ipsets { get; } = new(StringComparer.Ordinal);

    /// <summary>Variables used, by name: where each use is.</summary>
    public Dictionary<string, List<SourceLocation>> VariableUses { get; } = new(StringComparer.Ordinal);
}
