using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>The generation id moves with every commit, and a commit checked against a stale one is refused whole.</summary>
public sealed class GenerationTests
{
    private const string T = "gen";

    [Fact]
    public async Task GenerationChangesWithEveryCommitAndAStaleOneIsRefused()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });

        uint g0 = await nft.GetGenerationAsync();
        var first = await nft.CommitAsync(new Transaction().AddTable(Build.Table(T)).AddChain(Build.BaseChain(T)));
        uint g1 = await nft.GetGenerationAsync();
        Assert.NotEqual(g0, g1);
        Assert.Equal(g1, first.GenerationAfter);

        var second = await nft.CommitAsync(new Transaction().AddRule(Build.AcceptTo(T, "output", 1)), new CommitOptions { ExpectedGeneration = g1 });
        uint g2 = await nft.GetGenerationAsync();
        Assert.NotEqual(g1, g2);
        Assert.Equal(g1, second.GenerationBefore);
        Assert.Equal(g2, second.GenerationAfter);

        // A concurrent writer (nft, another process) commits in between.
        ns.Nft("add rule inet gen output counter comment \"foreign\"");
        uint g3 = await nft.GetGenerationAsync();
        Assert.NotEqual(g2, g3);
        string jsonBefore = ns.Nft("-j list ruleset");
        var before = await nft.ListTableAsync(NftFamily.Inet, T);

        var stale = new Transaction().AddRule(Build.AcceptTo(T, "output", 2)).AddChain(Build.RegularChain(T, "extra"));
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => nft.CommitAsync(stale, new CommitOptions { ExpectedGeneration = g2 }).AsTask());
        Assert.True(e.IsGenerationConflict, e.Message);
        Assert.False(e.IsPermissionDenied);
        Assert.Contains("ruleset changed", e.Message);
        Assert.Contains("nothing was applied", e.Message);
        Assert.All(e.Failures, f => Assert.Equal(-1, f.OperationIndex));
        Assert.Equal("ERESTART", e.Failures[0].Error.ErrnoName);

        Assert.Equal(g3, await nft.GetGenerationAsync());
        Assert.Equal(jsonBefore, ns.Nft("-j list ruleset"));
        Build.AssertSameContents(before, await nft.ListTableAsync(NftFamily.Inet, T));

        // With the current value the same transaction goes through.
        var ok = await nft.CommitAsync(stale, new CommitOptions { ExpectedGeneration = g3 });
        Assert.Equal(g3, ok.GenerationBefore);
        Assert.NotEqual(g3, ok.GenerationAfter);
        Assert.Equal(ok.GenerationAfter, await nft.GetGenerationAsync());
        var after = await nft.ListTableAsync(NftFamily.Inet, T);
        Assert.Equal(3, after!.Rules.Count);
        Assert.Contains(after.Chains, c => c.Name == "extra");
        Assert.Equal(after.Generation, ok.GenerationAfter);
    }

    [Fact]
    public async Task ARefusedCommitDoesNotMoveTheGeneration()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await nft.CommitAsync(new Transaction().AddTable(Build.Table(T)));
        uint g = await nft.GetGenerationAsync();
        await Assert.ThrowsAsync<TransactionRejectedException>(() =>
            nft.CommitAsync(new Transaction().AddChain(Build.RegularChain("absent", "c"))).AsTask());
        Assert.Equal(g, await nft.GetGenerationAsync());
    }
}
