namespace NetlinkFence.Policy.Layout;

/// <summary>
/// One grant's claim on an element: which entry, and until when. <see cref="Rank"/> is the entry's place in policy
/// order; the element's comment is its lowest-ranked contributor.
/// </summary>
internal readonly record struct Contributor(int Rank, string Entry, DateTimeOffset? Expires) : IComparable<Contributor>
{
    public int CompareTo(Contributor other)
    {
        int byRank = Rank.CompareTo(other.Rank);
        if (byRank != 0)
            return byRank;
        int byEntry = string.CompareOrdinal(Entry, other.Entry);
        if (byEntry != 0)
            return byEntry;
        // Permanent first, then by expiry.
        return (Expires?.UtcTicks ?? long.MinValue).CompareTo(other.Expires?.UtcTicks ?? long.MinValue);
    }
}
