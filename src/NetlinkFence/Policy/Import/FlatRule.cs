namespace NetlinkFence.Policy.Import;

/// <summary>Which way a built-in chain's packets go, and so which address is the peer.</summary>
internal enum Direction
{
    Output,
    Input,
    Forward,
}

/// <summary>
/// A rule as a packet of a built-in chain meets it: user-defined chains reached by <c>-j CHAIN</c> are inlined, the
/// jump's matches joined to each of their rules. Addresses are split into the peer (destination of OUTPUT, source of
/// INPUT) and the host's own side.
/// </summary>
internal sealed class FlatRule
{
    public required IptablesRule Rule { get; init; }

    /// <summary>The <c>-j CHAIN</c> rules that lead here, outermost first.</summary>
    public required IReadOnlyList<IptablesRule> Via { get; init; }

    public string? Protocol { get; set; }
    public IReadOnlyList<AddressItem>? Peer { get; set; }
    public IReadOnlyList<AddressItem>? Local { get; set; }

    /// <summary>The interface of the chain's own side (<c>-o</c> on OUTPUT, <c>-i</c> on INPUT).</summary>
    public string? Interface { get; set; }

    /// <summary>An interface option the chain cannot use (<c>-i</c> on OUTPUT, <c>-o</c> on INPUT).</summary>
    public string? WrongInterface { get; set; }

    public IReadOnlyList<PortItem>? DestinationPorts { get; set; }
    public IReadOnlyList<PortItem>? SourcePorts { get; set; }
    public ConnState? States { get; set; }
    public (ulong Count, ulong UnitSeconds)? Limit { get; set; }
    public string? IcmpType { get; set; }
    public string? HopLimit { get; set; }

    /// <summary><c>-m owner --uid-owner</c>: only this user's sockets (OUTPUT only; iptables refuses it elsewhere).</summary>
    public string? UidOwner { get; set; }
    public string? Comment { get; set; }
    public List<(IptablesLine Line, int Column, string Reason)> Unsupported { get; } = [];

    /// <summary>The jump's and the rule's conditions contradict: no packet matches.</summary>
    public string? Never { get; set; }

    /// <summary>Why no packet reaches the rule (RETURNs before it return every one: <see cref="AddressTypeReturns"/>); null when packets do.</summary>
    public string? NeverReached { get; set; }

    /// <summary>A RETURN of a run that returns every packet INPUT sees (<see cref="AddressTypeReturns"/>): the end of its chain, and why.</summary>
    public string? ReturnsAll { get; set; }

    public string? Target => Rule.Target;

    public IptablesLine Line => Rule.Line;

    /// <summary>Every line involved, jumps first.</summary>
    public IEnumerable<IptablesLine> Lines => Via.Select(v => v.Line).Append(Rule.Line);

    /// <summary>No condition at all: every packet that reaches the rule matches it.</summary>
    public bool Unconditional =>
        Protocol is null && Peer is null && Local is null && Interface is null && WrongInterface is null && DestinationPorts is null && SourcePorts is null
        && States is null && Limit is null && IcmpType is null && HopLimit is null && UidOwner is null && Unsupported.Count == 0 && Never is null;

    /// <summary>Only an established/related state match, nothing else.</summary>
    public bool OnlyStates =>
        Protocol is null && Peer is null && Local is null && Interface is null && WrongInterface is null && DestinationPorts is null && SourcePorts is null
        && Limit is null && IcmpType is null && HopLimit is null && UidOwner is null && Unsupported.Count == 0 && States is not null;
}
