using System.Numerics;

namespace NetlinkFence.Policy.Import;

/// <summary>Ranges of integers with both ends included (ports, addresses as numbers), as the importer joins them.</summary>
internal static class InclusiveRanges
{
    /// <summary>The ranges sorted, with overlapping and adjacent ones joined.</summary>
    public static List<(T First, T Last)> Merge<T>(IEnumerable<(T First, T Last)> ranges) where T : IBinaryInteger<T>, IMinMaxValue<T>
    {
        var merged = new List<(T First, T Last)>();
        foreach (var range in ranges.OrderBy(r => r.First))
        {
            // A range that ends at the type's last value holds everything after it (and +1 would wrap).
            if (merged.Count > 0 && (merged[^1].Last == T.MaxValue || range.First <= merged[^1].Last + T.One))
                merged[^1] = (merged[^1].First, T.Max(merged[^1].Last, range.Last));
            else
                merged.Add(range);
        }
        return merged;
    }

    /// <summary>What of <paramref name="ranges"/> lies outside every range of <paramref name="removed"/>, sorted and joined.</summary>
    public static List<(T First, T Last)> Without<T>(IEnumerable<(T First, T Last)> ranges, IEnumerable<(T First, T Last)> removed) where T : IBinaryInteger<T>, IMinMaxValue<T>
    {
        var kept = Merge(ranges);
        foreach (var (first, last) in Merge(removed))
        {
            var next = new List<(T First, T Last)>(kept.Count + 1);
            foreach (var range in kept)
            {
                if (last < range.First || first > range.Last)
                {
                    next.Add(range);
                    continue;
                }
                // The parts before and after the removed range (the comparisons keep -1 and +1 from wrapping).
                if (range.First < first)
                    next.Add((range.First, first - T.One));
                if (range.Last > last)
                    next.Add((last + T.One, range.Last));
            }
            kept = next;
        }
        return kept;
    }
}
