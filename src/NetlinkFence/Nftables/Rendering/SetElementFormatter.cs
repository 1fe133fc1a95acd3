using System.Text;

namespace NetlinkFence.Nftables.Rendering;

/// <summary>
/// Prints a set's elements as nft does: non-interval sets sorted by value; interval sets with their start/end
/// element pairs folded back into single values, CIDR prefixes (addresses only) and <c>a-b</c> ranges;
/// concatenations joined with <c> . </c>; and nft's line breaking: two IPv4 addresses, or five ports, protocols
/// or marks, per line, and one element per line for every other type (IPv6, concatenations).
/// </summary>
internal static class SetElementFormatter
{
    /// <summary>What follows a line-breaking comma: newline, three tabs and five spaces (under <c>elements = { </c>).</summary>
    private const string Newline = ",\n\t\t\t     ";
    private const string SingleLine = ", ";

    /// <summary>The text between the braces of <c>elements = { ... }</c>, or null when the set is empty.</summary>
    public static string? Format(NftSet set, IReadOnlyList<SetElement> elements, bool singleLine = false)
    {
        var items = Items(set, elements);
        if (items.Count == 0)
            return null;
        int perLine = singleLine ? int.MaxValue : PerLine(set);
        var text = new StringBuilder();
        int count = 0;
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0)
            {
                if (count < perLine)
                    text.Append(SingleLine);
                else
                {
                    text.Append(Newline);
                    count = 0;
                }
            }
            text.Append(items[i]);
            count++;
        }
        return text.ToString();
    }

    /// <summary>Elements per line before nft breaks it; 1 means every comma breaks.</summary>
    private static int PerLine(NftSet set)
    {
        if ((set.Flags & SetFlags.Anonymous) != 0)
            return int.MaxValue;
        if (set.IsConcatenation)
            return 1;
        return set.Key[0] switch
        {
            SetKeyType.Ipv4Address => 2,
            SetKeyType.InetService or SetKeyType.InetProto or SetKeyType.NfProto or SetKeyType.Mark => 5,
            _ => 1,
        };
    }

    /// <summary>The printed elements in nft's order.</summary>
    public static List<string> Items(NftSet set, IReadOnlyList<SetElement> elements)
    {
        var items = new List<string>(elements.Count);
        bool interval = (set.Flags & SetFlags.Interval) != 0;
        if (set.IsConcatenation)
        {
            // Concatenated interval sets keep the kernel's order (nft prints them as dumped). Concatenated hash
            // sets are sorted the way nft sorts them: the whole key compared as one little-endian number
            // (last byte most significant), which is what nft's list output shows.
            IEnumerable<SetElement> ordered = interval ? elements : elements.OrderBy(e => Reversed(e.Key), ByteOrder.Instance);
            foreach (var element in ordered)
            {
                if (element.IntervalEnd)
                    continue;
                items.Add(FormatConcat(set, element.Key, element.KeyEnd ?? element.Key, interval) + Annotations(set, element));
            }
            return items;
        }

        var type = set.Key[0];
        var sorted = elements.OrderBy(e => SortKey(type, e.Key), ByteOrder.Instance).ThenBy(e => e.IntervalEnd ? 0 : 1).ToList();
        if (!interval)
        {
            foreach (var element in sorted)
                items.Add(FormatValue(type, element.Key.Span) + Annotations(set, element));
            return items;
        }

        // Interval sets: a start element, then the first value past the range flagged as interval end.
        byte[]? start = null;
        SetElement? opened = null;
        foreach (var element in sorted)
        {
            if (!element.IntervalEnd)
            {
                if (start is not null)
                    items.Add(FormatRange(type, start, Previous(element.Key.Span.ToArray(), type)) + Annotations(set, opened!));
                start = element.Key.Span.ToArray();
                opened = element;
                continue;
            }
            if (start is null)
                continue; // nft's leading "0 is an end" element, or an end with no start: prints nothing
            items.Add(FormatRange(type, start, Previous(element.Key.Span.ToArray(), type)) + Annotations(set, opened!));
            start = null;
        }
        if (start is not null)
        {
            var max = new byte[start.Length];
            Array.Fill(max, (byte)0xff);
            items.Add(FormatRange(type, start, max) + Annotations(set, opened!));
        }
        return items;
    }

    /// <summary>
    /// What nft prints after an element: <c> timeout 1h</c> (when it differs from the set's), <c> expires 59m59s992ms</c>,
    /// <c> counter packets 3 bytes 180</c> (read back from a set with element counters), and <c> comment "..."</c> from the element's userdata (nft's TLV type 0, NUL-terminated).
    /// </summary>
    private static string Annotations(NftSet set, SetElement element)
    {
        var text = new StringBuilder();
        if (element.Timeout is { } timeout && timeout != set.Timeout)
            text.Append(" timeout ").Append(Duration(timeout));
        if (element.Expiration is { } expires)
            text.Append(" expires ").Append(Duration(expires));
        if (element.Counter is { } counter)
            text.Append(" counter packets ").Append(counter.Packets).Append(" bytes ").Append(counter.Bytes);
        if (element.UserData is { } userData && RuleUserData.ReadString(userData.Span, 0, out _) is { } comment)
            text.Append(" comment ").Append(NftSyntax.Quote(comment, $"comment of an element of set {NftSyntax.Comment(set.Name)}"));
        return text.ToString();
    }

    /// <summary>nft's time format: <c>1d2h3m4s5ms</c>, zero parts omitted.</summary>
    public static string Duration(TimeSpan span)
    {
        var text = new StringBuilder();
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        if (span.Days > 0)
            text.Append(invariant, $"{span.Days}d");
        if (span.Hours > 0)
            text.Append(invariant, $"{span.Hours}h");
        if (span.Minutes > 0)
            text.Append(invariant, $"{span.Minutes}m");
        if (span.Seconds > 0)
            text.Append(invariant, $"{span.Seconds}s");
        if (span.Milliseconds > 0 || text.Length == 0)
            text.Append(invariant, $"{span.Milliseconds}ms");
        return text.ToString();
    }

    private static byte[] Reversed(DataValue key)
    {
        var bytes = key.Span.ToArray();
        Array.Reverse(bytes);
        return bytes;
    }

    private static byte[] SortKey(SetKeyType type, DataValue key)
    {
        var bytes = key.Span.ToArray();
        if (!type.IsBigEndian())
            Array.Reverse(bytes);
        return bytes;
    }

    /// <summary>The value one less than <paramref name="value"/> in the type's byte order.</summary>
    private static byte[] Previous(byte[] value, SetKeyType type)
    {
        var result = (byte[])value.Clone();
        if (type.IsBigEndian())
        {
            for (int i = result.Length - 1; i >= 0; i--)
                if (result[i]-- != 0)
                    break;
        }
        else
        {
            for (int i = 0; i < result.Length; i++)
                if (result[i]-- != 0)
                    break;
        }
        return result;
    }

    private static string FormatConcat(NftSet set, DataValue key, DataValue keyEnd, bool interval)
    {
        var parts = new List<string>(set.Key.Count);
        int offset = 0;
        foreach (var type in set.Key)
        {
            int size = type.Size();
            if (offset + size > key.Count || offset + size > keyEnd.Count)
                return "0x" + Convert.ToHexStringLower(key.Span);
            var low = key.Span.Slice(offset, size).ToArray();
            var high = keyEnd.Span.Slice(offset, size).ToArray();
            parts.Add(interval ? FormatRange(type, low, high) : FormatValue(type, low));
            offset += (size + 3) & ~3;
        }
        return string.Join(" . ", parts);
    }

    /// <summary>A range [low, high], inclusive, as nft prints it: one value, a CIDR prefix (addresses), or <c>a-b</c>.</summary>
    public static string FormatRange(SetKeyType type, byte[] low, byte[] high)
    {
        if (low.AsSpan().SequenceEqual(high))
            return FormatValue(type, low);
        if (type is SetKeyType.Ipv4Address or SetKeyType.Ipv6Address)
        {
            int prefix = ValueFormatter.RangePrefixLength(low, high);
            if (prefix >= 0)
                return FormatValue(type, low) + "/" + prefix.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return FormatValue(type, low) + "-" + FormatValue(type, high);
    }

    /// <summary>One value of <paramref name="type"/>.</summary>
    public static string FormatValue(SetKeyType type, ReadOnlySpan<byte> value)
    {
        var kind = type switch
        {
            SetKeyType.Ipv4Address => ValueKind.Ipv4,
            SetKeyType.Ipv6Address => ValueKind.Ipv6,
            SetKeyType.InetProto => ValueKind.InetProto,
            SetKeyType.InetService => ValueKind.Service,
            SetKeyType.Mark => ValueKind.HostInteger,
            (SetKeyType)14 => ValueKind.IcmpType, // nft's icmp_type, seen in anonymous sets
            (SetKeyType)29 => ValueKind.Icmpv6Type, // nft's icmpv6_type
            (SetKeyType)26 => ValueKind.CtState, // nft's ct_state
            _ => ValueKind.Integer,
        };
        if (type == SetKeyType.NfProto && value.Length == 1 && value[0] is PayloadFields.NfprotoIpv4 or PayloadFields.NfprotoIpv6)
            return value[0] == PayloadFields.NfprotoIpv4 ? "ipv4" : "ipv6";
        return ValueFormatter.Format(value, kind) ?? "0x" + Convert.ToHexStringLower(value);
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
