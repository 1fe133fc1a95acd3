using System.Text.Json;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>Listing one part of the ruleset and getting one object, checked against <c>nft -j list</c>.</summary>
public sealed class ListingTests
{
    private const string T = "l";
    private static readonly NftSet Set = Build.AddressPortSet(T, "s");
    private static readonly NftSet Other = Build.AddressPortSet("other", "s");

    /// <summary>Table l (chains output and r, set s) and table other with a set and chain of the same names.</summary>
    private static async Task<NftablesConnection> Open(TestNamespace ns)
    {
        var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await nft.CommitAsync(new Transaction()
            .AddTable(Build.Table(T)).AddChain(Build.BaseChain(T)).AddChain(Build.RegularChain(T, "r"))
            .AddRule(Build.AcceptTo(T, "output", 1)).AddRule(Build.AcceptTo(T, "r", 2, "two")).AddRule(Build.AcceptTo(T, "r", 3, "three"))
            .AddSet(Set).AddElements(Set, [.. Enumerable.Range(1, 300).Select(n => Build.AddressPort(n, 443))])
            .AddTable(Build.Table("other")).AddChain(Build.RegularChain("other", "r")).AddRule(Build.AcceptTo("other", "r", 4))
            .AddSet(Other).AddElements(Other, [Build.AddressPort(7, 7)]));
        return nft;
    }

    [Fact]
    public async Task Lists_one_sets_elements_as_nft_lists_them()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await Open(ns);

        var elements = await nft.ListElementsAsync(Set);

        Assert.NotNull(elements);
        using var json = JsonDocument.Parse(ns.Nft($"-j list set inet {T} s"));
        var set = json.RootElement.GetProperty("nftables").EnumerateArray().Single(i => i.TryGetProperty("set", out _)).GetProperty("set");
        var expected = set.GetProperty("elem").EnumerateArray()
            .Select(e => e.GetProperty("concat").EnumerateArray().ToArray())
            .Select(c => $"{c[0].GetString()} . {c[1].GetInt32()}").Order().ToArray();
        var actual = elements.Select(e => e.Key.Span.ToArray())
            .Select(k => $"{k[0]}.{k[1]}.{k[2]}.{k[3]} . {(k[4] << 8) | k[5]}").Order().ToArray();
        Assert.Equal(300, actual.Length);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task Listing_the_elements_of_a_missing_set_gives_null()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await Open(ns);
        Assert.Null(await nft.ListElementsAsync(Build.AddressPortSet(T, "missing")));
        Assert.Null(await nft.ListElementsAsync(Build.AddressPortSet("missing", "s")));
    }

    [Fact]
    public async Task Lists_the_rules_of_one_chain_in_order_with_nfts_handles()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await Open(ns);

        var rules = await nft.ListRulesAsync(NftFamily.Inet, T, "r");

        Assert.NotNull(rules);
        Assert.Equal(["two", "three"], rules.Select(r => r.Comment));
        using var json = JsonDocument.Parse(ns.Nft($"-j list chain inet {T} r"));
        var handles = json.RootElement.GetProperty("nftables").EnumerateArray()
            .Where(i => i.TryGetProperty("rule", out _)).Select(i => i.GetProperty("rule").GetProperty("handle").GetUInt64());
        Assert.Equal(handles, rules.Select(r => r.Handle));
        Assert.True(Assert.Single((await nft.ListRulesAsync(NftFamily.Inet, "other", "r"))!).SameConfiguration(Build.AcceptTo("other", "r", 4)));
        Assert.Null(await nft.ListRulesAsync(NftFamily.Inet, T, "missing"));
    }

    [Fact]
    public async Task Lists_the_chains_and_sets_of_one_table()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await Open(ns);

        Assert.Equal(["output", "r"], (await nft.ListChainsAsync(NftFamily.Inet, T)).Select(c => c.Name));
        Assert.Equal(3, (await nft.ListChainsAsync()).Count);
        Assert.Empty(await nft.ListChainsAsync(NftFamily.Ip));
        var sets = await nft.ListSetsAsync(NftFamily.Inet, T);
        Assert.True(Assert.Single(sets).SameConfiguration(Set));
        Assert.Empty(await nft.ListSetsAsync(NftFamily.Inet, "missing"));
    }

    [Fact]
    public async Task Gets_one_object_or_null_when_it_is_missing()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await Open(ns);

        Assert.Equal(T, (await nft.GetTableAsync(NftFamily.Inet, T))!.Name);
        Assert.Null(await nft.GetTableAsync(NftFamily.Ip, T));
        Assert.True((await nft.GetChainAsync(NftFamily.Inet, T, "output"))!.SameConfiguration(Build.BaseChain(T)));
        Assert.Null(await nft.GetChainAsync(NftFamily.Inet, T, "missing"));
        Assert.Null(await nft.GetChainAsync(NftFamily.Inet, "missing", "output"));
        Assert.True((await nft.GetSetAsync(NftFamily.Inet, T, "s"))!.SameConfiguration(Set));
        Assert.Null(await nft.GetSetAsync(NftFamily.Inet, T, "missing"));

        var second = (await nft.ListRulesAsync(NftFamily.Inet, T, "r"))![1];
        var got = await nft.GetRuleAsync(NftFamily.Inet, T, "r", second.Handle);
        Assert.NotNull(got);
        Assert.Equal(second.Handle, got.Handle);
        Assert.True(got.SameConfiguration(second));
        Assert.Null(await nft.GetRuleAsync(NftFamily.Inet, T, "r", second.Handle + 1000));
        Assert.Null(await nft.GetRuleAsync(NftFamily.Inet, T, "missing", second.Handle));
    }
}
