using System.Diagnostics;
using System.Text.Json;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Kernel;

/// <summary>
/// 100,000 set elements in one transaction: split over many NEWSETELEM messages, still one atomic batch,
/// and the outcome (applied or refused) is never misread.
/// </summary>
public sealed class LargeSetTests(ITestOutputHelper output)
{
    private const string T = "big";
    private const int Count = 100_000;

    private static SetElement[] Elements(int offset) =>
        [.. Enumerable.Range(0, Count).Select(i => Build.AddressPort(offset + i, (ushort)(1 + i % 60000)))];

    private static async Task<NftablesConnection> WithPreviousContents(TestNamespace ns, NftSet set)
    {
        var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await nft.CommitAsync(new Transaction().AddTable(Build.Table(T)).AddChain(Build.BaseChain(T)).AddSet(set)
            .AddElements(set, [Build.AddressPort(1, 22), Build.AddressPort(2, 22), Build.AddressPort(3, 22)])
            .AddRule(Build.AcceptTo(T, "output", 7, "previous")));
        return nft;
    }

    private static int NftElementCount(TestNamespace ns)
    {
        using var json = JsonDocument.Parse(ns.Nft("-j list set inet big allow"));
        foreach (var item in json.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty("set", out var set))
                return set.TryGetProperty("elem", out var elem) ? elem.GetArrayLength() : 0;
        }
        throw new InvalidOperationException("nft listed no set");
    }

    [Fact]
    public async Task AHundredThousandElementsCommitAtomically()
    {
        using var ns = TestNamespace.Create();
        var set = Build.AddressPortSet(T, "allow");
        await using var nft = await WithPreviousContents(ns, set);

        var elements = Elements(1000);
        var tx = new Transaction().AddElements(set, elements).AddRule(Build.AcceptTo(T, "output", 8, "new"));
        var result = await nft.CommitAsync(tx);
        output.WriteLine($"100k elements: {result.Messages} messages, {result.Bytes} bytes, {result.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(result.Messages > 3, $"expected the elements to be split over several NEWSETELEM messages, got {result.Messages} messages");
        Assert.True(result.Bytes > 65536);

        var sw = Stopwatch.StartNew();
        var contents = await nft.ListTableAsync(NftFamily.Inet, T);
        output.WriteLine($"listing: {sw.ElapsedMilliseconds} ms");
        var listed = Assert.Single(contents!.Sets).Elements;
        Assert.Equal(Count + 3, listed.Count);
        var keys = listed.Select(e => e.Key).ToHashSet();
        Assert.All(elements, e => Assert.Contains(e.Key, keys));
        Assert.Equal(2, contents.Rules.Count);
        Assert.Equal(Count + 3, NftElementCount(ns));
    }

    [Fact]
    public async Task AHundredThousandElementsAndABadRuleAtTheEndChangeNothing()
    {
        using var ns = TestNamespace.Create();
        var set = Build.AddressPortSet(T, "allow");
        await using var nft = await WithPreviousContents(ns, set);
        string jsonBefore = ns.Nft("-j list ruleset");
        var before = await nft.ListTableAsync(NftFamily.Inet, T);
        uint generation = await nft.GetGenerationAsync();

        var tx = new Transaction().AddElements(set, Elements(1000))
            .AddRule(Build.AcceptTo(T, "output", 8))
            .AddRule(Build.JumpTo(T, "output", "nowhere", "last"), origin: "the end");
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => nft.CommitAsync(tx).AsTask());
        var failure = Assert.Single(e.Failures);
        Assert.Equal(2, failure.OperationIndex);
        Assert.Equal("the end", failure.Origin);
        Assert.Equal("ENOENT", failure.Error.ErrnoName);

        Assert.Equal(generation, await nft.GetGenerationAsync());
        Build.AssertSameContents(before, await nft.ListTableAsync(NftFamily.Inet, T));
        Assert.Equal(3, NftElementCount(ns));
        Assert.Equal(jsonBefore, ns.Nft("-j list ruleset"));
    }

    [Fact]
    public async Task AHundredThousandElementsInANewTableWithABadElementLeaveNoTable()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var set = Build.AddressPortSet(T, "allow");
        var elements = Elements(1000);
        // The last element's key is 3 bytes for an 8-byte key: the kernel refuses it (EINVAL), after 100,000 good ones.
        var bad = new SetElement(new DataValue([1, 2, 3]));
        var tx = new Transaction().AddTable(Build.Table(T)).AddSet(set).AddElements(set, elements)
            .AddElements(set, [bad], origin: "bad element");
        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => nft.CommitAsync(tx).AsTask());
        var failure = Assert.Single(e.Failures);
        Assert.Equal(3, failure.OperationIndex);
        Assert.Equal("EINVAL", failure.Error.ErrnoName);
        Assert.Equal("bad element", failure.Origin);
        Assert.Null(await nft.ListTableAsync(NftFamily.Inet, T));
        Assert.Equal("", ns.Nft("list ruleset").Trim());
    }
}
