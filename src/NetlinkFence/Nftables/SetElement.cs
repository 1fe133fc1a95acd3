namespace NetlinkFence.Nftables;

/// <summary>
/// One set element. For an interval set without concatenation nft stores each range as two elements: its
/// start, and the first value past its end flagged <see cref="IntervalEnd"/>. Concatenated interval sets
/// carry both ends in one element (<see cref="KeyEnd"/>).
/// </summary>
/// <param name="Key">The key bytes (concatenated fields each padded to 4 bytes).</param>
public sealed record SetElement(DataValue Key)
{
    /// <summary>The inclusive end of the range, for concatenated interval sets.</summary>
    public DataValue? KeyEnd { get; init; }

    /// <summary>Marks the element that closes a range (non-concatenated interval sets).</summary>
    public bool IntervalEnd { get; init; }

    /// <summary>Per-element timeout (set needs <see cref="SetFlags.Timeout"/>).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Time left before expiry, as read back.</summary>
    public TimeSpan? Expiration { get; init; }

    /// <summary>Raw element userdata (nft's element comment), kept as read back.</summary>
    public DataValue? UserData { get; init; }

    /// <summary>Equality of configuration: the expiration countdown is ignored.</summary>
    public bool Equals(SetElement? other) =>
        other is not null && Key == other.Key && Equals(KeyEnd, other.KeyEnd) && IntervalEnd == other.IntervalEnd
        && Timeout == other.Timeout && Equals(UserData, other.UserData);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Key, KeyEnd, IntervalEnd);
}
