using System.Text.Json;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>
/// Destroy = delete if present, no error if not. Each case runs twice: with NFT_MSG_DESTROY* (this kernel has them)
/// and with the pre-6.3 add-then-delete encoding the connection falls back to on older kernels.
/// </summary>
public sealed class DestroyTests
{
    private const string T = "d";
    private static readonly NftSet Set = Build.AddressPortSet(T, "s");

    public static TheoryData<bool> Encodings => new() { true, false };

    private static async Task<NftablesConnection> OpenWithTable(TestNamespace ns, bool destroyMessages)
    {
        var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        nft.KernelHasDestroy = destroyMessages;
        await nft.CommitAsync(new Transaction().AddTable(Build.Table(T)).AddChain(Build.BaseChain(T)).AddChain(Build.RegularChain(T, "r"))
            .AddRule(Build.AcceptTo(T, "output", 1)).AddRule(Build.AcceptTo(T, "r", 2)).AddSet(Set)
            .AddElements(Set, [Build.AddressPort(1, 80), Build.AddressPort(2, 443)]));
        return nft;
    }

    /// <summary>The objects nft lists in the namespace, e.g. <c>table d</c>, <c>chain d r</c>, <c>set d s</c>, <c>rule d r</c>.</summary>
    private static List<string> Listed(TestNamespace ns)
    {
        using var json = JsonDocument.Parse(ns.Nft("-j list ruleset"));
        var objects = new List<string>();
        foreach (var item in json.RootElement.GetProperty("nftables").EnumerateArray())
        {
            foreach (var kind in new[] { "table", "chain", "set", "rule" })
            {
                if (!item.TryGetProperty(kind, out var o))
                    continue;
                string table = kind == "table" ? o.GetProperty("name").GetString()! : o.GetProperty("table").GetString()!;
                objects.Add(kind switch
                {
                    "table" => $"table {table}",
                    "rule" => $"rule {table} {o.GetProperty("chain").GetString()}",
                    _ => $"{kind} {table} {o.GetProperty("name").GetString()}",
                });
            }
        }
        return objects;
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task Destroying_a_table_twice_deletes_it_then_does_nothing(bool destroyMessages)
    {
        using var ns = TestNamespace.Create();
        await using var nft = await OpenWithTable(ns, destroyMessages);
        Assert.Contains("rule d r", Listed(ns));

        await nft.CommitAsync(new Transaction().DestroyTable(Build.Table(T)));
        Assert.Empty(Listed(ns));
        await nft.CommitAsync(new Transaction().DestroyTable(Build.Table(T)));
        Assert.Empty(Listed(ns));
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task Destroying_a_chain_twice_deletes_it_with_its_rules_then_does_nothing(bool destroyMessages)
    {
        using var ns = TestNamespace.Create();
        await using var nft = await OpenWithTable(ns, destroyMessages);

        await nft.CommitAsync(new Transaction().DestroyChain(Build.RegularChain(T, "r")));
        var listed = Listed(ns);
        Assert.DoesNotContain("chain d r", listed);
        Assert.DoesNotContain("rule d r", listed);
        Assert.Contains("rule d output", listed);
        await nft.CommitAsync(new Transaction().DestroyChain(Build.RegularChain(T, "r")));
        Assert.Equal(listed, Listed(ns));
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task Destroying_a_set_twice_deletes_it_then_does_nothing(bool destroyMessages)
    {
        using var ns = TestNamespace.Create();
        await using var nft = await OpenWithTable(ns, destroyMessages);

        await nft.CommitAsync(new Transaction().DestroySet(Set));
        var listed = Listed(ns);
        Assert.DoesNotContain("set d s", listed);
        Assert.Contains("chain d r", listed);
        await nft.CommitAsync(new Transaction().DestroySet(Set));
        Assert.Equal(listed, Listed(ns));
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task Destroying_elements_deletes_those_present_and_ignores_the_others(bool destroyMessages)
    {
        using var ns = TestNamespace.Create();
        await using var nft = await OpenWithTable(ns, destroyMessages);

        SetElement present = Build.AddressPort(1, 80), absent = Build.AddressPort(9, 9);
        await nft.CommitAsync(new Transaction().DestroyElements(Set, [present, absent]));
        Assert.Equal([Build.AddressPort(2, 443)], await nft.ListElementsAsync(Set));
        await nft.CommitAsync(new Transaction().DestroyElements(Set, [present, absent]));
        Assert.Equal([Build.AddressPort(2, 443)], await nft.ListElementsAsync(Set));
    }

    [Fact]
    public async Task Destroying_a_rule_twice_by_its_handle_deletes_it_then_does_nothing()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await OpenWithTable(ns, destroyMessages: true);
        var rule = (await nft.ListRulesAsync(NftFamily.Inet, T, "r"))!.Single();

        await nft.CommitAsync(new Transaction().DestroyRule(rule));
        Assert.Empty((await nft.ListRulesAsync(NftFamily.Inet, T, "r"))!);
        await nft.CommitAsync(new Transaction().DestroyRule(rule));
        Assert.Contains("rule d output", Listed(ns));
    }

    /// <summary>The kernel's destroy forgives a missing object, and a rule's missing chain, but not a missing table.</summary>
    [Fact]
    public async Task Destroying_in_a_missing_table_is_refused_with_ENOENT_and_in_a_missing_chain_is_not()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await OpenWithTable(ns, destroyMessages: true);
        var listed = Listed(ns);
        var rule = (await nft.ListRulesAsync(NftFamily.Inet, T, "r"))!.Single();

        var refused = await Assert.ThrowsAsync<TransactionRejectedException>(() => nft.CommitAsync(new Transaction()
            .DestroyChain(Build.RegularChain("missing", "r")).DestroySet(Build.AddressPortSet("missing", "s"))
            .DestroyRule(new Rule(NftFamily.Inet, T, "missing", rule.Expressions) { Handle = rule.Handle })
            .DestroyRule(Build.AcceptTo("missing", "r", 1) with { Handle = rule.Handle })
            .DestroyRule(rule with { Handle = rule.Handle + 1000 })).AsTask());

        Assert.Equal([0, 1, 3], refused.Failures.Select(f => f.OperationIndex));
        Assert.All(refused.Failures, f => Assert.Equal(2, f.Error.Errno)); // ENOENT
        Assert.Equal(listed, Listed(ns));

        await nft.CommitAsync(new Transaction()
            .DestroyRule(new Rule(NftFamily.Inet, T, "missing", rule.Expressions) { Handle = rule.Handle })
            .DestroyRule(rule with { Handle = rule.Handle + 1000 }));
        Assert.Equal(listed, Listed(ns));
    }

    [Fact]
    public async Task Destroying_a_rule_without_destroy_messages_is_refused_before_anything_is_sent()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await OpenWithTable(ns, destroyMessages: false);
        var rule = (await nft.ListRulesAsync(NftFamily.Inet, T, "r"))!.Single();
        uint generation = await nft.GetGenerationAsync();

        var tx = new Transaction().AddChain(Build.RegularChain(T, "other")).DestroyRule(rule);
        await Assert.ThrowsAsync<NotSupportedException>(() => nft.CommitAsync(tx).AsTask());
        Assert.Equal(generation, await nft.GetGenerationAsync());
        Assert.DoesNotContain("chain d other", Listed(ns));
    }

    [Fact]
    public async Task The_probe_finds_destroy_on_this_kernel_and_changes_no_generation()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await nft.CommitAsync(new Transaction().AddTable(Build.Table("keep")));
        uint generation = await nft.GetGenerationAsync();
        Assert.Null(nft.KernelHasDestroy);

        // ExpectedGeneration makes the kernel refuse the batch (ERESTART) if the probe before it moved the generation.
        await nft.CommitAsync(new Transaction().DestroyTable(Build.Table(T)).AddTable(Build.Table(T)), new CommitOptions { ExpectedGeneration = generation });

        var release = Environment.OSVersion.Version; // the kernel release on Linux, e.g. 6.18.44
        Assert.Equal(release >= new Version(6, 3), nft.KernelHasDestroy);
        Assert.Equal(["table keep", "table d"], Listed(ns));
    }
}
