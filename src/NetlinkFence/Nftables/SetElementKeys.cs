using System.Text;

namespace NetlinkFence.Nftables;

/// <summary>
/// Turns typed elements (<see cref="SetElement.Of"/>) into the elements nft 1.0.6 sends for a set, and checks them
/// against the set's declared key. Raw elements (built from bytes) pass through untouched, so the bytes of
/// existing callers do not change.
/// </summary>
internal static class SetElementKeys
{
    /// <summary>libnftnl's <c>NFTNL_UDATA_SET_ELEM_FLAGS</c>: nft's element flags TLV in the element userdata.</summary>
    private const byte UserDataFlags = 1;

    /// <summary>
    /// libnftnl's <c>NFTNL_SET_ELEM_F_INTERVAL_OPEN</c>: a range that runs to the type's largest value has no
    /// "first value past the end" to send as its end element, so nft sends the start alone (the kernel's rbtree
    /// then matches up to the maximum) and records this flag so <c>nft list</c> prints the range, not a value.
    /// </summary>
    private const uint IntervalOpen = 1;

    /// <summary>The key bytes: one field unpadded; a concatenation with every field padded to 4 bytes.</summary>
    public static DataValue Join(SetKeyField[] fields, bool last)
    {
        if (fields.Length == 1)
            return last ? fields[0].Last : fields[0].First;
        int length = 0;
        foreach (var field in fields)
            length += Padded(field.First.Count);
        var key = new byte[length];
        int offset = 0;
        foreach (var field in fields)
        {
            (last ? field.Last : field.First).Span.CopyTo(key.AsSpan(offset));
            offset += Padded(field.First.Count);
        }
        return DataValue.Own(key);
    }

    /// <summary>Each concatenated field occupies whole 32-bit registers (nft's <c>netlink_padded_len</c>).</summary>
    private static int Padded(int length) => (length + 3) & ~3;

    /// <summary>Userdata holding only a comment TLV (NUL-terminated, as nft writes it).</summary>
    public static DataValue CommentUserData(string comment)
    {
        int size = RuleUserData.CommentSize(comment);
        if (size > RuleUserData.MaxBytes || size - 2 > byte.MaxValue)
            throw new ArgumentException($"element comment is {Encoding.UTF8.GetByteCount(comment)} bytes; nft allows at most {byte.MaxValue - 1}", nameof(comment));
        var bytes = new byte[size];
        RuleUserData.WriteComment(bytes, RuleUserData.RuleComment, comment);
        return DataValue.Own(bytes);
    }

    /// <summary>
    /// The elements to send for <paramref name="elements"/>: typed ones checked against <paramref name="set"/>'s
    /// key (unless it is a <see cref="NftSet.Reference"/>) and expanded the way nft expands them; the same list
    /// when nothing needed to change. Expanded elements lose their fields, so shaping a shaped list is a no-op.
    /// </summary>
    public static IReadOnlyList<SetElement> Shape(NftSet set, IReadOnlyList<SetElement> elements, bool add)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(elements);
        List<SetElement>? shaped = null;
        for (int i = 0; i < elements.Count; i++)
        {
            var element = elements[i];
            if (element.Fields is not { } fields)
            {
                shaped?.Add(element);
                continue;
            }
            if (!set.IsReference)
                Check(set, element, fields);
            bool range = element.KeyEnd is not null || Array.Exists(fields, f => f.IsRange);
            // A reference may not know the set's flags: then only a range says it must be an interval set.
            bool interval = (set.Flags & SetFlags.Interval) != 0 || (set.IsReference && range);
            if (!interval || (fields.Length > 1 && (range || !add)))
            {
                // Hash sets, concatenated ranges (both ends already in the element), and deletes of one value
                // from a concatenated interval set (nft sends the key alone).
                shaped?.Add(element);
                continue;
            }
            shaped ??= new List<SetElement>(elements.Count + 1);
            if (shaped.Count == 0)
                for (int j = 0; j < i; j++)
                    shaped.Add(elements[j]);
            if (fields.Length > 1)
            {
                // One value in a concatenated interval set: nft sends it as the range [value, value].
                shaped.Add(element with { KeyEnd = element.Key, Fields = null });
            }
            else if (fields[0].EndsAtMaximum)
            {
                shaped.Add(element with { UserData = WithOpenFlag(element.UserData), Fields = null });
            }
            else
            {
                // The kernel's rbtree stores an interval as its start and the first value past it, flagged as an
                // end; timeout and comment stay on the start, as nft sends them.
                shaped.Add(element with { Fields = null });
                shaped.Add(new SetElement(fields[0].PastLast()) { IntervalEnd = true });
            }
        }
        return shaped ?? elements;
    }

    private static void Check(NftSet set, SetElement element, SetKeyField[] fields)
    {
        // The texts are built only on failure: the compiler shapes 100,000s of elements through here.
        if (fields.Length != set.Key.Count)
            throw new ArgumentException(
                $"element {Text(fields)} has {fields.Length} field(s) but {Describe(set)} ({set.Key.Count} field(s))", nameof(element));
        for (int i = 0; i < fields.Length; i++)
        {
            if (fields[i].Type != set.Key[i])
                throw new ArgumentException(
                    $"element {Text(fields)}: field {i + 1} ({fields[i]}) is {fields[i].Type.ToNftName()}, but {Describe(set)}", nameof(element));
        }
        if ((set.Flags & SetFlags.Interval) == 0 && (element.KeyEnd is not null || Array.Exists(fields, f => f.IsRange)))
            throw new ArgumentException($"element {Text(fields)} is a range, but set {set.Family.ToNftName()} {set.Table} {set.Name} is not an interval set (flags interval)", nameof(element));
    }

    private static string Text(SetKeyField[] fields) => string.Join(" . ", fields.Select(f => f.ToString()));

    private static string Describe(NftSet set) =>
        $"set {set.Family.ToNftName()} {set.Table} {set.Name} has key {string.Join(" . ", set.Key.Select(t => t.ToNftName()))}";

    /// <summary>Appends nft's "open interval" flag TLV after any comment, as nft orders them.</summary>
    private static DataValue WithOpenFlag(DataValue? userData)
    {
        int existing = userData?.Count ?? 0;
        var bytes = new byte[existing + 6];
        userData?.Span.CopyTo(bytes);
        bytes[existing] = UserDataFlags;
        bytes[existing + 1] = 4;
        BitConverter.TryWriteBytes(bytes.AsSpan(existing + 2), IntervalOpen); // nftnl_udata_put_u32: host order
        return DataValue.Own(bytes);
    }
}
