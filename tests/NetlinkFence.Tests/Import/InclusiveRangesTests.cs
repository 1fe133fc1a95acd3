using NetlinkFence.Policy.Import;

namespace NetlinkFence.Tests.Import;

/// <summary>The importer's range arithmetic (ports joined from ipset members, addresses left after exceptions), at the edges of the type too.</summary>
public sealed class InclusiveRangesTests
{
    [Fact]
    public void Merge_joins_overlapping_and_adjacent_ranges_and_sorts_them()
    {
        Assert.Equal([(1, 5), (7, 9)], InclusiveRanges.Merge([(7, 7), (3, 5), (1, 2), (8, 9), (4, 4)]));
        Assert.Equal([(0u, uint.MaxValue)], InclusiveRanges.Merge([(10u, uint.MaxValue), (0u, 9u), (uint.MaxValue, uint.MaxValue)]));
    }

    [Fact]
    public void Without_keeps_what_lies_outside_the_removed_ranges()
    {
        Assert.Equal([(0, 6), (8, 255)], InclusiveRanges.Without([(0, 255)], [(7, 7)]));
        Assert.Equal([(1, 2), (9, 10)], InclusiveRanges.Without([(1, 5), (6, 10)], [(3, 8), (4, 5)]));
        Assert.Empty(InclusiveRanges.Without([(3, 4)], [(0, 10)]));
        Assert.Equal([(1, 5)], InclusiveRanges.Without([(1, 5)], [(6, 9)]));
    }

    [Fact]
    public void Without_at_the_first_and_last_value_of_the_type_does_not_wrap()
    {
        Assert.Equal([(1u, uint.MaxValue - 1)], InclusiveRanges.Without([(0u, uint.MaxValue)], [(0u, 0u), (uint.MaxValue, uint.MaxValue)]));
        Assert.Equal([(UInt128.One, UInt128.MaxValue)], InclusiveRanges.Without([(UInt128.Zero, UInt128.MaxValue)], [(UInt128.Zero, UInt128.Zero)]));
    }
}
