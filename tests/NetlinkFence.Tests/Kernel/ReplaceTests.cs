using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>
/// The product's atomic replace: AddTable (create if missing) + DeleteTable + AddTable + everything, in one
/// transaction, works whether or not the table existed, and leaves only the new contents with fresh counters.
/// </summary>
public sealed class ReplaceTests
{
    private const string T = "fence";

    private static Transaction Replace(int generation)
    {
        var set = Build.AddressPortSet(T, "allow");
        var tx = new Transaction()
            .AddTable(Build.Table(T)).DeleteTable(Build.Table(T)).AddTable(Build.Table(T))
            .AddChain(Build.BaseChain(T, "output", ChainPolicy.Accept))
            .AddChain(Build.RegularChain(T, "denied"))
            .AddSet(set)
            .AddElements(set, [.. Enumerable.Range(0, 10).Select(i => Build.AddressPort(generation * 100 + i, 443))]);
        for (int i = 0; i < 5; i++)
            tx.AddRule(Build.AcceptTo(T, "output", generation * 100 + i, $"gen {generation} rule {i}"));
        tx.AddRule(Build.JumpTo(T, "output", "denied"));
        return tx;
    }

    [Fact]
    public async Task ReplaceWorksWhetherOrNotTheTableExistsAndResetsEverything()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });

        // 1. The table does not exist yet.
        await nft.CommitAsync(Replace(1));
        var first = await nft.ListTableAsync(NftFamily.Inet, T);
        Assert.NotNull(first);
        Assert.Equal(6, first.Rules.Count);
        Assert.Equal(10, Assert.Single(first.Sets).Elements.Count);

        // Make counters move and add foreign state the replace must wipe: a packet through output, an extra chain and rule.
        ns.Exec("ip", "addr add 10.0.0.1/8 dev lo"); // makes 10.0.0.100 local, so a datagram to it passes output
        ns.Exec("bash", "-c \"echo x > /dev/udp/10.0.0.100/9\""); // 10.0.0.100 is rule 0 of generation 1
        Assert.Contains("packets 1", ns.Nft("list chain inet fence output"));
        ns.Nft("add chain inet fence foreign");
        ns.Nft("add rule inet fence output counter comment \"foreign\"");
        ns.Nft("add element inet fence allow { 192.0.2.1 . 22 }");
        string listed = ns.Nft("list table inet fence");
        Assert.Contains("foreign", listed);

        // 2. The table exists, with different contents.
        await nft.CommitAsync(Replace(2));
        var second = await nft.ListTableAsync(NftFamily.Inet, T);
        Assert.NotNull(second);
        Assert.Equal(["output", "denied"], second.Chains.Select(c => c.Name));
        Assert.Equal(6, second.Rules.Count);
        Assert.All(second.Rules.Take(5), (r, i) => Assert.Equal($"gen 2 rule {i}", r.Comment));
        Assert.All(second.Rules.SelectMany(r => r.Expressions).OfType<CounterExpression>(), c => Assert.Equal(0UL, c.Packets));
        var elements = Assert.Single(second.Sets).Elements;
        Assert.Equal(10, elements.Count);
        Assert.Equal(
            Enumerable.Range(200, 10).Select(i => Build.AddressPort(i, 443)).OrderBy(e => e.Key.ToString()),
            elements.OrderBy(e => e.Key.ToString()));
        string after = ns.Nft("list table inet fence");
        Assert.DoesNotContain("foreign", after);
        Assert.DoesNotContain("192.0.2.1", after);
        Assert.DoesNotContain("packets 1", after);
        Assert.Contains("gen 2 rule 0", after);
        Assert.Single(await nft.ListTablesAsync());

        // 3. Replacing with identical contents is idempotent.
        await nft.CommitAsync(Replace(2));
        var third = await nft.ListTableAsync(NftFamily.Inet, T);
        Assert.Equal(second.Rules.Count, third!.Rules.Count);
        for (int i = 0; i < second.Rules.Count; i++)
            Assert.True(second.Rules[i].SameConfiguration(third.Rules[i]));
    }
}
