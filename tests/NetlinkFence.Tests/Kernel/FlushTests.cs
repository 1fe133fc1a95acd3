using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>Flushing a chain (its rules go, it stays) and a set (its elements go, it stays).</summary>
public sealed class FlushTests
{
    private const string T = "f";

    [Fact]
    public async Task Flushing_a_chain_deletes_its_rules_only()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await nft.CommitAsync(new Transaction().AddTable(Build.Table(T)).AddChain(Build.BaseChain(T)).AddChain(Build.RegularChain(T, "r"))
            .AddRule(Build.AcceptTo(T, "output", 1)).AddRule(Build.AcceptTo(T, "r", 2)).AddRule(Build.AcceptTo(T, "r", 3)));

        await nft.CommitAsync(new Transaction().FlushChain(Build.RegularChain(T, "r")));

        Assert.Empty((await nft.ListRulesAsync(NftFamily.Inet, T, "r"))!);
        Assert.Single((await nft.ListRulesAsync(NftFamily.Inet, T, "output"))!);
        Assert.DoesNotContain("10.0.0.2", ns.Nft($"list chain inet {T} r"));
        Assert.Contains("10.0.0.1", ns.Nft($"list chain inet {T} output"));
    }

    [Fact]
    public async Task Flushing_a_set_deletes_its_elements_only()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var set = Build.AddressPortSet(T, "s");
        var kept = Build.AddressPortSet(T, "kept");
        await nft.CommitAsync(new Transaction().AddTable(Build.Table(T)).AddSet(set).AddSet(kept)
            .AddElements(set, [.. Enumerable.Range(1, 1000).Select(n => Build.AddressPort(n, 80))]).AddElements(kept, [Build.AddressPort(1, 1)]));

        await nft.CommitAsync(new Transaction().FlushSet(set));

        Assert.Empty((await nft.ListElementsAsync(set))!);
        Assert.Single((await nft.ListElementsAsync(kept))!);
        Assert.NotNull(await nft.GetSetAsync(NftFamily.Inet, T, "s"));
        Assert.DoesNotContain("elements", ns.Nft($"list set inet {T} s"));
    }
}
