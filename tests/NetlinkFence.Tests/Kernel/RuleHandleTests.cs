using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Kernel;

/// <summary>
/// Handles of added rules come back from the commit (NLM_F_ECHO), so the caller can delete or replace exactly the
/// rule it added; rules go where Position says.
/// </summary>
public sealed class RuleHandleTests(ITestOutputHelper output)
{
    private const string T = "h";

    private static async Task<NftablesConnection> Open(TestNamespace ns)
    {
        var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await nft.CommitAsync(new Transaction().AddTable(Build.Table(T)).AddChain(Build.BaseChain(T)).AddRule(Build.AcceptTo(T, "output", 1, "first")));
        return nft;
    }

    private static async Task<string[]> Comments(NftablesConnection nft) =>
        (await nft.ListRulesAsync(NftFamily.Inet, T, "output"))!.Select(r => r.Comment ?? "").ToArray();

    [Fact]
    public async Task Echoed_handles_are_the_handles_nft_lists_in_transaction_order()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await Open(ns);

        var result = await nft.CommitAsync(new Transaction()
            .AddRule(Build.AcceptTo(T, "output", 2, "a")).AddChain(Build.RegularChain(T, "r"))
            .InsertRule(Build.AcceptTo(T, "output", 3, "b")).AddRule(Build.AcceptTo(T, "r", 4, "c")),
            new CommitOptions { EchoHandles = true });

        var listed = (await nft.ListRulesAsync(NftFamily.Inet, T, "output"))!.Concat((await nft.ListRulesAsync(NftFamily.Inet, T, "r"))!)
            .ToDictionary(r => r.Comment!, r => r.Handle);
        Assert.Equal([listed["a"], listed["b"], listed["c"]], result.RuleHandles);
        Assert.Contains($"comment \"a\" # handle {listed["a"]}", ns.Nft($"-a list chain inet {T} output"));
    }

    [Fact]
    public async Task Without_the_option_no_handles_are_asked_for()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await Open(ns);
        var result = await nft.CommitAsync(new Transaction().AddRule(Build.AcceptTo(T, "output", 2)));
        Assert.Empty(result.RuleHandles);
    }

    [Fact]
    public async Task A_rule_deleted_by_its_returned_handle_is_the_one_added()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await Open(ns);
        var added = Build.AcceptTo(T, "output", 2, "mine");
        var result = await nft.CommitAsync(new Transaction().AddRule(added).AddRule(Build.AcceptTo(T, "output", 3, "last")), new CommitOptions { EchoHandles = true });

        await nft.CommitAsync(new Transaction().DeleteRule(added with { Handle = result.RuleHandles[0] }));

        Assert.Equal(["first", "last"], await Comments(nft));
    }

    [Fact]
    public async Task A_rule_replaced_by_its_returned_handle_keeps_its_place_and_handle()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await Open(ns);
        var result = await nft.CommitAsync(new Transaction().AddRule(Build.AcceptTo(T, "output", 2, "mine")).AddRule(Build.AcceptTo(T, "output", 3, "last")),
            new CommitOptions { EchoHandles = true });

        var replaced = await nft.CommitAsync(new Transaction().ReplaceRule(Build.AcceptTo(T, "output", 9, "replaced") with { Handle = result.RuleHandles[0] }),
            new CommitOptions { EchoHandles = true });

        Assert.Equal(["first", "replaced", "last"], await Comments(nft));
        Assert.Equal(result.RuleHandles[0], Assert.Single(replaced.RuleHandles));
        Assert.Contains("ip daddr 10.0.0.9", ns.Nft($"list chain inet {T} output"));
    }

    [Fact]
    public async Task Rules_go_before_or_after_the_rule_whose_handle_is_their_position()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await Open(ns);
        var result = await nft.CommitAsync(new Transaction().AddRule(Build.AcceptTo(T, "output", 2, "last")), new CommitOptions { EchoHandles = true });
        ulong first = (await nft.ListRulesAsync(NftFamily.Inet, T, "output"))![0].Handle, last = result.RuleHandles[0];

        await nft.CommitAsync(new Transaction()
            .AddRule(Build.AcceptTo(T, "output", 3, "after first") with { Position = first })
            .InsertRule(Build.AcceptTo(T, "output", 4, "before last") with { Position = last })
            .InsertRule(Build.AcceptTo(T, "output", 5, "before first") with { Position = first }));

        Assert.Equal(["before first", "first", "after first", "before last", "last"], await Comments(nft));
    }

    [Fact]
    public async Task Rules_go_after_or_before_a_rule_added_in_the_same_transaction()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await Open(ns);
        var anchor = Build.AcceptTo(T, "output", 2, "anchor");

        await nft.CommitAsync(new Transaction()
            .AddRule(anchor).AddRule(Build.AcceptTo(T, "output", 3, "last"))
            .AddRuleAfter(Build.AcceptTo(T, "output", 4, "after anchor"), anchor)
            .InsertRuleBefore(Build.AcceptTo(T, "output", 5, "before anchor"), anchor));

        Assert.Equal(["first", "before anchor", "anchor", "after anchor", "last"], await Comments(nft));
        Assert.Throws<ArgumentException>(() => new Transaction().AddRuleAfter(anchor, Build.AcceptTo(T, "output", 6)));
    }

    [Fact]
    public async Task Ten_thousand_added_rules_all_get_their_handle_back()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await Open(ns);
        var tx = new Transaction();
        for (int n = 0; n < 10_000; n++)
            tx.AddRule(Build.AcceptTo(T, "output", n + 10));

        var result = await nft.CommitAsync(tx, new CommitOptions { EchoHandles = true });
        output.WriteLine($"10,000 rules with echoed handles: {result.Elapsed.TotalMilliseconds:0} ms, {result.Bytes} bytes");

        var listed = (await nft.ListRulesAsync(NftFamily.Inet, T, "output"))!.Skip(1).Select(r => r.Handle);
        Assert.Equal(listed, result.RuleHandles);
    }
}
