using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>A refused transaction names exactly the refused objects, and leaves the ruleset exactly as it was.</summary>
public sealed class ErrorReportingTests
{
    private const string T = "keep";

    private static async Task<NftablesConnection> WithKnownTable(TestNamespace ns)
    {
        var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var set = Build.AddressPortSet(T, "pins");
        var tx = new Transaction().AddTable(Build.Table(T)).AddChain(Build.BaseChain(T)).AddSet(set)
            .AddElements(set, [Build.AddressPort(1, 443), Build.AddressPort(2, 80)]);
        for (int i = 0; i < 3; i++)
            tx.AddRule(Build.AcceptTo(T, "output", i, $"known {i}"));
        await nft.CommitAsync(tx);
        return nft;
    }

    [Fact]
    public async Task TheFiveHundredthOfAThousandRulesIsNamedAndNothingChanges()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await WithKnownTable(ns);
        string jsonBefore = ns.Nft("-j list ruleset");
        var before = await nft.ListTableAsync(NftFamily.Inet, T);
        uint generationBefore = await nft.GetGenerationAsync();

        var tx = new Transaction().AddTable(Build.Table(T)).AddChain(Build.RegularChain(T, "bulk"));
        for (int i = 0; i < 1000; i++)
        {
            tx.AddRule(i == 499
                ? Build.JumpTo(T, "bulk", "no_such_chain", "the bad one")
                : Build.AcceptTo(T, "bulk", i), origin: $"policy.yaml:{i + 10}:5");
        }
        tx.AddRule(Build.AcceptTo(T, "output", 99)); // a change to the existing chain that must not survive either

        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => nft.CommitAsync(tx).AsTask());
        var failure = Assert.Single(e.Failures);
        Assert.Equal(2 + 499, failure.OperationIndex);
        Assert.Equal(tx.Count, failure.OperationCount);
        Assert.Equal("policy.yaml:509:5", failure.Origin);
        Assert.Contains("rule in chain inet keep bulk", failure.Subject);
        Assert.Contains("the bad one", failure.Subject);
        Assert.Equal(2, failure.Error.Errno);
        Assert.Equal("ENOENT", failure.Error.ErrnoName);
        // Kernel 6.18 sends no extended-ACK text for a missing jump target (nft prints none either), only the
        // offset of the offending attribute (NLMSGERR_ATTR_OFFS), which must resolve to the verdict expression.
        Assert.True(failure.Error.Message is null || failure.Error.Message.Trim().Length > 0);
        Assert.NotNull(failure.Error.AttributeOffset);
        Assert.Equal("NFTA_RULE_EXPRESSIONS > expression #2 (immediate)", failure.Attribute);
        Assert.False(e.IsPermissionDenied);
        Assert.False(e.IsGenerationConflict);
        Assert.Contains("operation 502 of 1003", e.Message);
        Assert.Contains("ENOENT", e.Message);

        Assert.Equal(jsonBefore, ns.Nft("-j list ruleset"));
        Build.AssertSameContents(before, await nft.ListTableAsync(NftFamily.Inet, T));
        Assert.Equal(generationBefore, await nft.GetGenerationAsync());
    }

    [Fact]
    public async Task EveryBadRuleIsReported()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await WithKnownTable(ns);
        string jsonBefore = ns.Nft("-j list ruleset");

        int[] bad = [0, 17, 250, 251, 399];
        var tx = new Transaction();
        for (int i = 0; i < 400; i++)
            tx.AddRule(bad.Contains(i) ? Build.JumpTo(T, "output", $"missing_{i}") : Build.AcceptTo(T, "output", 1000 + i));
        tx.AddRule(Build.AcceptTo(T, "no_such_chain", 1)); // a rule in a chain that does not exist

        var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => nft.CommitAsync(tx).AsTask());
        Assert.Equal([.. bad, 400], e.Failures.Select(f => f.OperationIndex).Order().ToArray());
        Assert.All(e.Failures, f => Assert.Equal("ENOENT", f.Error.ErrnoName));
        Assert.Contains($"(and {bad.Length} more)", e.Message);
        Assert.Equal(jsonBefore, ns.Nft("-j list ruleset"));
    }

    [Fact]
    public async Task ARuleTooLongIsRefusedBeforeTheKernelWithTheRuleNamed()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await WithKnownTable(ns);
        string jsonBefore = ns.Nft("-j list ruleset");
        uint generation = await nft.GetGenerationAsync();

        // 100 expressions of 1,000 bytes each: within the kernel's 128 expressions, but far more than the
        // 64 KiB a rule's expression list can hold.
        var huge = new Rule(NftFamily.Inet, T, "output", Enumerable.Range(0, 100).Select(_ => (Expression)new RawExpression("counter", new DataValue(new byte[1000]))).ToList());
        var tx = new Transaction().AddRule(Build.AcceptTo(T, "output", 5)).AddRule(huge, origin: "policy.yaml:7:1");
        var e = await Assert.ThrowsAsync<NetlinkEncodingException>(() => nft.CommitAsync(tx).AsTask());
        Assert.Contains("64", e.Message);
        Assert.Contains("operation 2", e.Message);
        Assert.Contains("policy.yaml:7:1", e.Message);

        Assert.Equal(generation, await nft.GetGenerationAsync());
        Assert.Equal(jsonBefore, ns.Nft("-j list ruleset"));
        // The connection is still usable afterwards: the half-encoded batch was never sent.
        await nft.CommitAsync(new Transaction().AddRule(Build.AcceptTo(T, "output", 6)));
        Assert.Equal(4, (await nft.ListTableAsync(NftFamily.Inet, T))!.Rules.Count);
    }

    [Fact]
    public async Task MoreExpressionsThanTheKernelAcceptsAreRefusedBeforeTheKernel()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await WithKnownTable(ns);
        uint generation = await nft.GetGenerationAsync();
        var many = new Rule(NftFamily.Inet, T, "output", Enumerable.Range(0, 129).Select(_ => (Expression)new CounterExpression()).ToList());
        var e = await Assert.ThrowsAsync<NetlinkEncodingException>(() => nft.CommitAsync(new Transaction().AddRule(many, "policy.yaml:9:1")).AsTask());
        Assert.Contains("129 expressions", e.Message);
        Assert.Contains("NFT_RULE_MAXEXPRS", e.Message);
        Assert.Contains("policy.yaml:9:1", e.Message);
        Assert.Equal(generation, await nft.GetGenerationAsync());
    }

    [Fact]
    public void NamesTooLongAreRefusedWhenTheObjectIsBuilt()
    {
        string name = new('n', 256);
        var e1 = Assert.Throws<ArgumentException>(() => Build.Table(name));
        Assert.Contains("255", e1.Message);
        Assert.Contains("table", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => Build.RegularChain("t", name));
        Assert.Contains("chain", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => Build.AddressPortSet("t", name));
        Assert.Contains("set", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => Verdict.JumpTo(name));
        Assert.Contains("chain", e4.Message);
        Assert.Contains("255", e4.Message);
        // 255 bytes is still fine.
        Build.Table(new string('n', 255));
        Verdict.JumpTo(new string('n', 255));
        // UTF-8 bytes count, not characters: 128 two-byte characters are 256 bytes.
        Assert.Throws<ArgumentException>(() => Build.Table(new string('é', 128)));
    }
}
