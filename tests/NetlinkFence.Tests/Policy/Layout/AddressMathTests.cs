using System.Net.Sockets;
using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Tests.Policy.Layout;

/// <summary>A range is one CIDR block exactly when the general split (<see cref="AddressMath.Networks"/>) gives one.</summary>
public sealed class AddressMathTests
{
    [Theory]
    [InlineData(AddressFamily.InterNetwork)]
    [InlineData(AddressFamily.InterNetworkV6)]
    public void SingleNetworkAgreesWithTheSplitIntoNetworks(AddressFamily family)
    {
        var random = new Random(11);
        UInt128 max = AddressMath.Max(family);
        var ranges = new List<(UInt128, UInt128)> { (0, max), (0, 0), (max, max), (1, max), (0, max - 1), (10, 9) };
        for (int i = 0; i < 20_000; i++)
        {
            // Aligned blocks, blocks off by one at either end, and arbitrary ranges, all over the space.
            int prefix = random.Next(AddressMath.Bits(family) + 1);
            UInt128 size = prefix == 0 ? 0 : (UInt128)1 << (AddressMath.Bits(family) - prefix);
            UInt128 start = Random128(random) & max & ~(size == 0 ? max : size - 1);
            UInt128 end = size == 0 ? max : start + size - 1;
            ranges.Add((start, end));
            if (end < max)
                ranges.Add((start, end + 1));
            if (start < end)
                ranges.Add((start + 1, end));
            var (a, b) = (Random128(random) & max, Random128(random) & max);
            ranges.Add(a <= b ? (a, b) : (b, a));
        }
        foreach (var (first, last) in ranges)
        {
            var single = AddressMath.SingleNetwork(first, last, family);
            if (last < first)
            {
                Assert.Null(single);
                continue;
            }
            var split = AddressMath.Networks(first, last, family).ToList();
            Assert.True((split.Count == 1 ? split[0] : (System.Net.IPNetwork?)null) == single, $"{first}..{last}: {single} vs {string.Join(", ", split)}");
        }
    }

    private static UInt128 Random128(Random random) => new((ulong)random.NextInt64() << 1 ^ (ulong)random.Next(2), (ulong)random.NextInt64() << 1 ^ (ulong)random.Next(2));
}
