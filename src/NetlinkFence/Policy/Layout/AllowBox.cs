namespace NetlinkFence.Policy.Layout;

/// <summary>
/// One planned element: <c>addresses . protocol . ports</c>, every point of which has exactly the same
/// <see cref="Contributors"/> (sorted, distinct). Boxes of one set never overlap.
/// </summary>
internal sealed class AllowBox(UInt128 first, UInt128 last, byte protocol, ushort firstPort, ushort lastPort, Contributor[] contributors)
    : IEquatable<AllowBox>, IComparable<AllowBox>
{
    public UInt128 First { get; } = first;
    public UInt128 Last { get; } = last;
    public byte Protocol { get; } = protocol;
    public ushort FirstPort { get; } = firstPort;
    public ushort LastPort { get; } = lastPort;
    public Contributor[] Contributors { get; } = contributors;

    /// <summary>
    /// The element last made for this box (<see cref="AllowSetModel"/>): a refresh that only moves its timeout reuses
    /// its key and userdata bytes. Not part of equality.
    /// </summary>
    public Nftables.SetElement? LastElement { get; set; }

    /// <summary>Permanent when any contributor is; otherwise the latest expiry.</summary>
    public DateTimeOffset? Expires
    {
        get
        {
            DateTimeOffset? latest = null;
            foreach (var c in Contributors)
            {
                if (c.Expires is not { } expires)
                    return null;
                if (latest is null || expires > latest)
                    latest = expires;
            }
            return latest;
        }
    }

    /// <summary>The comment nft shows: the first contributing entry in policy order.</summary>
    public string Comment => Contributors[0].Entry;

    public bool Equals(AllowBox? other) =>
        other is not null && First == other.First && Last == other.Last && Protocol == other.Protocol
        && FirstPort == other.FirstPort && LastPort == other.LastPort && Contributors.AsSpan().SequenceEqual(other.Contributors);

    public override bool Equals(object? obj) => Equals(obj as AllowBox);

    public override int GetHashCode() => HashCode.Combine(First, Protocol, FirstPort, Contributors.Length);

    /// <summary>Key order (address, protocol, port), as the set sorts its elements.</summary>
    public int CompareTo(AllowBox? other)
    {
        if (other is null)
            return 1;
        int c = First.CompareTo(other.First);
        if (c == 0)
            c = Protocol.CompareTo(other.Protocol);
        if (c == 0)
            c = FirstPort.CompareTo(other.FirstPort);
        return c;
    }
}
