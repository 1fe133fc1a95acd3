namespace NetlinkFence.Policy;

/// <summary>One <c>egress.allow</c> or <c>input.allow</c> entry: who, on which ports.</summary>
public sealed record AllowEntry
{
    /// <summary>Creates an entry.</summary>
    public AllowEntry(string name, IReadOnlyList<Destination> peers, IReadOnlyList<PortRange> tcp, IReadOnlyList<PortRange> udp, SourceLocation? location = null)
    {
        Name = name;
        Peers = peers;
        Tcp = tcp;
        Udp = udp;
        Location = location ?? SourceLocation.Code;
    }

    /// <summary>The entry's name: the rule comment and part of its set names.</summary>
    public string Name { get; }

    /// <summary>Destinations (<c>to:</c>) for egress, sources (<c>from:</c>) for input; empty input <c>from</c> means any source.</summary>
    public IReadOnlyList<Destination> Peers { get; }

    /// <summary>TCP ports.</summary>
    public IReadOnlyList<PortRange> Tcp { get; }

    /// <summary>UDP ports.</summary>
    public IReadOnlyList<PortRange> Udp { get; }

    /// <summary>
    /// <c>resolve: lazy</c>: a DNS name of this entry that does not resolve when the policy is applied is not an
    /// error (it allows nothing until it resolves; the DNS refresher adds it then).
    /// </summary>
    public bool ResolveLazily { get; init; }

    /// <summary>Where the entry starts in the policy file.</summary>
    public SourceLocation Location { get; }

    /// <summary>
    /// <c>window:</c> (egress only): the entry is closed after apply and opened on demand for at most this long,
    /// with the kernel ending it (per-element timeouts); null: a permanent entry.
    /// </summary>
    public TimeSpan? Window { get; init; }

    /// <summary>
    /// <c>by:</c> (egress only): who may use the entry, any one of these; empty: every process (as without <c>by:</c>).
    /// </summary>
    public IReadOnlyList<ServiceScope> By { get; init; } = [];

    /// <summary>Equality ignores locations.</summary>
    public bool Equals(AllowEntry? other) =>
        other is not null && Name == other.Name && Peers.SequenceEqual(other.Peers) && Tcp.SequenceEqual(other.Tcp) && Udp.SequenceEqual(other.Udp)
        && Window == other.Window && ResolveLazily == other.ResolveLazily && By.SequenceEqual(other.By);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Peers.Count, Tcp.Count, Udp.Count, Window);
}
