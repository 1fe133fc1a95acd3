using System.Text.Json;
using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>Applying the example policy in a fresh namespace: what nft sees, idempotence, drift detection, refusals.</summary>
public sealed class ApplyPolicyTests
{
    private static readonly string Example = Path.Combine(RepositoryRoot(), "examples", "ironclaw-agent.yaml");

    private static async Task<CompiledPolicy> CompileExample() =>
        PolicyCompiler.Compile(await ResolvedPolicy.ResolveAsync(PolicyLoader.LoadFile(Example), new FixedResolver()));

    [Fact]
    public async Task ExampleReadsBackThroughNftExactlyAsCompiled()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var compiled = await CompileExample();
        await PolicyApplier.ApplyAsync(nft, compiled);

        using var json = JsonDocument.Parse(ns.Nft("-j list ruleset"));
        var items = json.RootElement.GetProperty("nftables").EnumerateArray().ToList();
        var chains = items.Where(i => i.TryGetProperty("chain", out _)).Select(i => i.GetProperty("chain")).ToList();
        foreach (var (name, hook) in new[] { ("input", "input"), ("forward", "forward"), ("output", "output") })
        {
            var chain = chains.Single(c => c.GetProperty("name").GetString() == name);
            Assert.Equal(hook, chain.GetProperty("hook").GetString());
            Assert.Equal("drop", chain.GetProperty("policy").GetString());
            Assert.Equal("filter", chain.GetProperty("type").GetString());
        }
        var rules = items.Where(i => i.TryGetProperty("rule", out _)).Select(i => i.GetProperty("rule")).ToList();
        Assert.Equal(compiled.Rules.Count, rules.Count);
        foreach (var chain in compiled.Chains)
            Assert.Equal(compiled.Rules.Count(r => r.Rule.Chain == chain.Name), rules.Count(r => r.GetProperty("chain").GetString() == chain.Name));

        // Every statement nft prints, per rule, in order: the compiled rules say what they mean.
        string[] output = rules.Where(r => r.GetProperty("chain").GetString() == "output").Select(r => r.GetProperty("expr").GetRawText()).ToArray();
        Assert.Contains("\"oif\"", output[0]);
        Assert.Contains("\"lo\"", output[0]);
        Assert.Contains("\"established\"", output[1]);
        Assert.Contains("\"related\"", output[1]);
        Assert.Contains("\"invalid\"", output[2]);
        Assert.Contains("\"drop\"", output[2]);
        Assert.Contains("\"@dns_v4\"", output[3]);
        Assert.Contains("\"udp\"", output[3]);
        Assert.Contains("\"@dns_v4\"", output[4]);
        Assert.Contains("\"tcp\"", output[4]);
        // One rule per allow set: ip daddr . meta l4proto . th dport @allow_v4 counter accept.
        Assert.Contains("\"@allow_v4\"", output[5]);
        Assert.Contains("\"l4proto\"", output[5]);
        Assert.Contains("\"counter\"", output[5]);
        Assert.Contains("\"@allow_v6\"", output[6]);
        Assert.Contains("\"egress_denied\"", output[^1]);
        Assert.Equal("allow", rules.Where(r => r.GetProperty("chain").GetString() == "output").ElementAt(5).GetProperty("comment").GetString());

        var sets = items.Where(i => i.TryGetProperty("set", out _)).Select(i => i.GetProperty("set")).ToDictionary(s => s.GetProperty("name").GetString()!);
        // Each element names its entry and carries its own counter (the set's counter expression).
        var allow = sets["allow_v4"].GetProperty("elem").EnumerateArray().Select(e => e.GetProperty("elem")).ToList();
        var control = Assert.Single(allow, e => e.GetProperty("comment").GetString() == "ironclaw-control");
        Assert.Equal("[\"203.0.113.50\",\"tcp\",443]", control.GetProperty("val").GetProperty("concat").GetRawText().Replace(" ", ""));
        Assert.Equal(0, control.GetProperty("counter").GetProperty("packets").GetInt64());
        var syslog = Assert.Single(allow, e => e.GetProperty("comment").GetString() == "syslog-tls");
        Assert.Contains("6514", syslog.GetProperty("val").GetRawText());
        Assert.Contains("192.168.1.10", sets["dns_v4"].GetProperty("elem").GetRawText());
        foreach (string name in new[] { "allow_v6", "input_v4", "input_v6" })
            Assert.False(sets[name].TryGetProperty("elem", out _), $"{name} is created empty");

        string deny = string.Join("\n", rules.Where(r => r.GetProperty("chain").GetString() == "egress_denied").Select(r => r.GetProperty("expr").GetRawText()));
        Assert.Contains("EGRESS-DENIED: ", deny);
        Assert.Contains("\"limit\"", deny);
        Assert.Contains("\"drop\"", deny);
    }

    [Fact]
    public async Task ReapplyIsIdempotent()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var compiled = await CompileExample();
        var first = await PolicyApplier.ApplyAsync(nft, compiled);
        string listing = ns.Nft("list table inet netlinkfence");
        var second = await PolicyApplier.ApplyAsync(nft, compiled);
        Assert.NotEmpty(first.Changes);
        Assert.Empty(second.Changes);
        Assert.Equal(listing, ns.Nft("list table inet netlinkfence"));
        Assert.True(second.Commit.GenerationAfter > first.Commit.GenerationAfter);
    }

    [Theory]
    [InlineData("delete rule", DifferenceKind.Missing, "chain output")]
    [InlineData("policy accept", DifferenceKind.Changed, "chain output")]
    [InlineData("add element", DifferenceKind.Added, "set allow_v4")]
    [InlineData("add rule", DifferenceKind.Added, "chain output")]
    [InlineData("add chain", DifferenceKind.Added, "chain sneaky")]
    public async Task DriftIsDetectedAndRepaired(string tampering, DifferenceKind kind, string subject)
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var compiled = await CompileExample();
        await PolicyApplier.ApplyAsync(nft, compiled);
        var live = await nft.ListTableAsync(NftFamily.Inet, "netlinkfence");
        Assert.Empty(TableDiff.Compare(compiled.ToExpectedContents(), live));

        switch (tampering)
        {
            case "delete rule":
                ulong handle = live!.RulesOf("output").Single(r => r.Comment == "allow" && r.Expressions.OfType<LookupExpression>().Single().SetName == "allow_v4").Handle;
                ns.Nft($"delete rule inet netlinkfence output handle {handle}");
                break;
            case "policy accept":
                ns.Nft("add chain inet netlinkfence output { type filter hook output priority filter ; policy accept ; }");
                break;
            case "add element":
                ns.Nft("add element inet netlinkfence allow_v4 { 198.51.100.9 . tcp . 22 }");
                break;
            case "add rule":
                ns.Nft("insert rule inet netlinkfence output accept");
                break;
            case "add chain":
                ns.Nft("add chain inet netlinkfence sneaky");
                break;
        }
        var differences = TableDiff.Compare(compiled.ToExpectedContents(), await nft.ListTableAsync(NftFamily.Inet, "netlinkfence"));
        Assert.Contains(differences, d => d.Kind == kind && d.Subject == subject);

        var repaired = await PolicyApplier.ApplyAsync(nft, compiled);
        Assert.NotEmpty(repaired.Changes);
        Assert.Empty(TableDiff.Compare(compiled.ToExpectedContents(), await nft.ListTableAsync(NftFamily.Inet, "netlinkfence")));
    }

    [Fact]
    public async Task RefusedApplyLeavesThePreviousRulesetByteIdentical()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var compiled = await CompileExample();
        await PolicyApplier.ApplyAsync(nft, compiled);
        string before = ns.Nft("-j list ruleset");
        var beforeContents = await nft.ListTableAsync(NftFamily.Inet, "netlinkfence");

        var poisoned = compiled.ToReplaceTransaction()
            .AddRule(new RuleBuilder(NftFamily.Inet, "netlinkfence", "output").Jump("no_such_chain"), "poison.yaml:1:1");
        var refused = await Assert.ThrowsAsync<TransactionRejectedException>(() => nft.CommitAsync(poisoned).AsTask());
        Assert.Equal(poisoned.Count - 1, refused.Failures.Single().OperationIndex);
        Assert.Equal("poison.yaml:1:1", refused.Failures.Single().Origin);

        Assert.Equal(before, ns.Nft("-j list ruleset"));
        var after = await nft.ListTableAsync(NftFamily.Inet, "netlinkfence");
        Assert.Equal(beforeContents!.Rules.Select(r => r.Handle), after!.Rules.Select(r => r.Handle));
        Assert.Empty(TableDiff.Compare(compiled.ToExpectedContents(), after));
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "NetlinkFence.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("repository root (NetlinkFence.sln) not found above " + AppContext.BaseDirectory);
    }
}
