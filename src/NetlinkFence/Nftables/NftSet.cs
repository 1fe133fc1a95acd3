using NetlinkFence.Nftables.Expressions;
namespace NetlinkFence.Nftables;

/// <summary>A named set: <c>set allow_v4 { type ipv4_addr . inet_service; flags interval; }</c>.</summary>
public sealed record NftSet
{
    /// <summary>Creates a set description; a key of several types is a concatenation.</summary>
    public NftSet(NftFamily family, string table, string name, IReadOnlyList<SetKeyType> key, SetFlags flags = SetFlags.None)
    {
        NftNames.Validate(table, "table");
        NftNames.Validate(name, "set");
        ArgumentNullException.ThrowIfNull(key);
        if (key.Count == 0)
            throw new ArgumentException("a set key needs at least one type", nameof(key));
        if (key.Count > 32 / SetKeyTypes.TypeBits)
            throw new ArgumentException($"a concatenation holds at most {32 / SetKeyTypes.TypeBits} types", nameof(key));
        Family = family;
        Table = table;
        Name = name;
        Key = key.ToArray();
        // nft sets NFT_SET_CONCAT only on interval concatenations (the kernel's pipapo set needs it and the field
        // lengths of NFTA_SET_DESC_CONCAT); a concatenated hash set is a plain hash of the padded key.
        Flags = key.Count > 1 && (flags & SetFlags.Interval) != 0 ? flags | SetFlags.Concat : flags;
    }

    private NftSet(NftFamily family, string table, string name, SetFlags flags)
    {
        NftNames.Validate(table, "table");
        NftNames.Validate(name, "set");
        Family = family;
        Table = table;
        Name = name;
        Key = [];
        Flags = flags;
    }

    /// <summary>
    /// A set known only by name: enough for every operation that names a set (adding and deleting its elements,
    /// <see cref="Transaction.DeleteSet"/>), not to create one. Typed elements (<see cref="SetElement.Of"/>) added
    /// through a reference are checked and shaped at commit against the set the kernel has (one extra request per
    /// referenced set): whether it is an interval set decides how a single value is sent, and guessing wrong would
    /// turn one address into an open interval. <paramref name="flags"/> is only what the reference itself reports.
    /// </summary>
    public static NftSet Reference(NftFamily family, string table, string name, SetFlags flags = SetFlags.None) =>
        new(family, table, name, flags);

    /// <summary>True for a <see cref="Reference"/>: the key types and flags are unknown.</summary>
    public bool IsReference => Key.Count == 0;

    /// <summary>The family of the table.</summary>
    public NftFamily Family { get; }

    /// <summary>The table's name.</summary>
    public string Table { get; }

    /// <summary>The set's name.</summary>
    public string Name { get; }

    /// <summary>The key's types, in concatenation order; empty for a <see cref="Reference"/>.</summary>
    public IReadOnlyList<SetKeyType> Key { get; }

    /// <summary>Set flags.</summary>
    public SetFlags Flags { get; init; }

    /// <summary>Default element timeout (requires <see cref="SetFlags.Timeout"/>).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The set's comment, stored in userdata the way nft stores it.</summary>
    public string? Comment { get; init; }

    /// <summary>
    /// <c>NFTA_SET_DESC_SIZE</c>: the number of elements the set is sized for. nft sends it for anonymous
    /// constant sets (their element count); null writes nothing.
    /// </summary>
    public uint? Size { get; init; }

    /// <summary>
    /// The expression whose value the key holds (nft's <c>typeof</c>), e.g. <c>meta l4proto</c> for the anonymous
    /// set of <c>meta l4proto { icmp, ipv6-icmp }</c>. Recorded in the set's userdata the way nft 1.0.6 records it,
    /// so <c>nft list</c> prints the set with that expression. Only <see cref="MetaExpression"/> is recorded.
    /// </summary>
    public Expression? KeyTypeOf { get; init; }

    /// <summary>
    /// The <c>counter</c> set expression (<c>NFTA_SET_EXPR</c>): the kernel gives every element its own packet and
    /// byte counter, listed with the element (<see cref="SetElement.Counter"/>).
    /// </summary>
    public bool ElementCounters { get; init; }

    /// <summary>Kernel handle; set on sets read back.</summary>
    public ulong Handle { get; init; }

    /// <summary>True when the key is a concatenation.</summary>
    public bool IsConcatenation => Key.Count > 1;

    /// <summary><c>NFTA_SET_KEY_TYPE</c>: the types packed 6 bits each, first type in the highest bits.</summary>
    public uint KeyTypeCode
    {
        get
        {
            // Index loops: foreach over IReadOnlyList boxes an enumerator on every encode.
            uint code = 0;
            for (int i = 0; i < Key.Count; i++)
                code = (code << SetKeyTypes.TypeBits) | (uint)Key[i];
            return code;
        }
    }

    /// <summary><c>NFTA_SET_KEY_LEN</c>: each concatenated field occupies whole 32-bit registers.</summary>
    public int KeyLength
    {
        get
        {
            if (!IsConcatenation)
                return IsReference ? 0 : Key[0].Size();
            int length = 0;
            for (int i = 0; i < Key.Count; i++)
                length += (Key[i].Size() + 3) & ~3;
            return length;
        }
    }

    /// <summary>Whether two sets describe the same configuration (handles ignored).</summary>
    public bool SameConfiguration(NftSet other) =>
        Family == other.Family && Table == other.Table && Name == other.Name && Key.SequenceEqual(other.Key)
        && Flags == other.Flags && Timeout == other.Timeout && Comment == other.Comment && ElementCounters == other.ElementCounters;

    /// <inheritdoc />
    public bool Equals(NftSet? other) => other is not null && Handle == other.Handle && SameConfiguration(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Family, Table, Name, Flags, Key.Count);
}
