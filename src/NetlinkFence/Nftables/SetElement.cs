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

    /// <summary>
    /// The element's own counter, as read back from a set with <see cref="NftSet.ElementCounters"/>; null when
    /// adding (the kernel starts it at zero) and for sets without. Not part of equality: it changes with traffic.
    /// </summary>
    public Expressions.CounterExpression? Counter { get; init; }

    /// <summary>Raw element userdata (nft's element comment), kept as read back.</summary>
    public DataValue? UserData { get; init; }

    /// <summary>
    /// nft's element comment, kept in <see cref="UserData"/> (libnftnl's <c>NFTNL_UDATA_SET_ELEM_COMMENT</c> TLV);
    /// setting it replaces the userdata.
    /// </summary>
    public string? Comment
    {
        get => UserData is { } userData ? RuleUserData.ReadString(userData.Span, RuleUserData.RuleComment, out _) : null;
        init => UserData = value is null ? null : SetElementKeys.CommentUserData(value);
    }

    /// <summary>
    /// The typed fields the element was built from (<see cref="Of"/>); null for raw elements, and for elements
    /// already shaped for their set (so shaping twice changes nothing).
    /// </summary>
    internal SetKeyField[]? Fields { get; init; }

    /// <summary>
    /// An element from typed fields: one field is a plain key, several a concatenation (each field padded to a
    /// 32-bit register, as nft does). A field may be a range (<see cref="SetKeyField.Network"/>,
    /// <see cref="SetKeyField.Ports"/>) for interval sets. <see cref="Transaction.AddElements"/> checks the fields
    /// against the set's key types and writes what nft writes for the set's kind: the exclusive end element of a
    /// non-concatenated interval, <see cref="KeyEnd"/> for concatenated intervals.
    /// </summary>
    /// <example><c>tx.AddElements(set, [SetElement.Of(IPAddress.Parse("203.0.113.7"), ProtocolType.Tcp, SetKeyField.Port(443))]);</c></example>
    public static SetElement Of(params SetKeyField[] fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Length == 0)
            throw new ArgumentException("an element needs at least one key field", nameof(fields));
        var copy = fields.ToArray();
        var key = SetElementKeys.Join(copy, last: false);
        bool range = Array.Exists(copy, f => f.IsRange);
        return new SetElement(key)
        {
            // A concatenated range carries both ends in one element; a single field's range becomes two
            // elements when the transaction shapes it (SetElementKeys.Shape).
            KeyEnd = range && copy.Length > 1 ? SetElementKeys.Join(copy, last: true) : null,
            Fields = copy,
        };
    }

    /// <summary>Equality of configuration: the expiration countdown is ignored.</summary>
    public bool Equals(SetElement? other) =>
        other is not null && Key == other.Key && Equals(KeyEnd, other.KeyEnd) && IntervalEnd == other.IntervalEnd
        && Timeout == other.Timeout && Equals(UserData, other.UserData);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Key, KeyEnd, IntervalEnd);
}
