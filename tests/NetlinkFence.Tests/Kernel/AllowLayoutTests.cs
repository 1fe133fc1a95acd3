using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Policy.Layout;
using NetlinkFence.Tests.Faults;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>
/// The allow layout against the real kernel: sets and rules do not grow with the entries, overlapping entries
/// apply (the kernel refuses partially overlapping concat-interval elements, the planner splits them), nft still
/// lists elements carrying our contributor userdata, and AllowSetModel deltas commit as one transaction whose
/// result a model rebuilt from the dump plans identically.
/// </summary>
public sealed class AllowLayoutTests
{
    private static string Entries(int count)
    {
        var text = new StringBuilder("""
            version: 1
            egress:
              allow:

            """);
        for (int i = 0; i < count; i++)
            text.Append($"    - name: e{i}\n      to: [10.{i >> 8 & 255}.{i & 255}.1]\n      tcp: [443]\n");
        text.Append("input:\n  allow:\n    - name: ssh\n      from: [192.0.2.0/24]\n      tcp: [22]\n");
        return text.ToString();
    }

    private static (int Sets, int Rules, int Elements) Count(TestNamespace ns)
    {
        using var document = JsonDocument.Parse(ns.Nft("-j list ruleset"));
        var items = document.RootElement.GetProperty("nftables").EnumerateArray().ToList();
        var sets = items.Where(i => i.TryGetProperty("set", out _)).Select(i => i.GetProperty("set")).ToList();
        int elements = sets.Sum(s => s.TryGetProperty("elem", out var e) ? e.GetArrayLength() : 0);
        return (sets.Count, items.Count(i => i.TryGetProperty("rule", out _)), elements);
    }

    private static List<string> Sorted(IEnumerable<SetElement> elements) =>
        elements.Select(e => $"{e.Key} {e.KeyEnd} {e.UserData}").Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task Sets_and_rules_do_not_grow_with_the_number_of_entries()
    {
        using var one = TestNamespace.Create();
        using var many = TestNamespace.Create();
        await using (var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = one.Name }))
            await PolicyApplier.ApplyAsync(nft, FaultPolicies.Compile(Entries(1)));
        await using (var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = many.Name }))
            await PolicyApplier.ApplyAsync(nft, FaultPolicies.Compile(Entries(2000)));
        var small = Count(one);
        var large = Count(many);
        Assert.Equal(small.Sets, large.Sets);
        Assert.Equal(small.Rules, large.Rules);
        Assert.Equal(2, small.Elements);          // e0 and ssh
        Assert.Equal(2001, large.Elements);       // one element per entry, each with its own counter
        Assert.Contains("10.7.207.1 . tcp . 443 counter packets 0 bytes 0 comment \"e1999\"", many.Nft("list set inet netlinkfence allow_v4"));
    }

    [Fact]
    public async Task Overlapping_entries_apply_and_read_back_clean_with_nft_still_listing_them()
    {
        using var ns = TestNamespace.Create();
        var compiled = FaultPolicies.Compile("""
            version: 1
            egress:
              allow:
                - name: wide
                  to: [10.0.0.0/8, "2001:db8::/32"]
                  tcp: [443, 8000-8100]
                - name: narrow
                  to: [10.1.2.0/24, 10.1.2.3, "2001:db8:1::/48"]
                  tcp: [443, 8080]
                  udp: [53]
            """);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var result = await PolicyApplier.ApplyAsync(nft, compiled); // verifies by reading back
        Assert.NotEmpty(result.Changes);
        Assert.Empty(TableDiff.Compare(compiled.ToExpectedContents(), await nft.ListTableAsync(NftFamily.Inet, "netlinkfence")));
        string listed = ns.Nft("list set inet netlinkfence allow_v4");
        // nft skips our contributor TLVs and prints the comment: the overlap is attributed to the first entry.
        Assert.Contains("10.1.2.0/24 . tcp . 443 counter packets 0 bytes 0 comment \"wide\"", listed);
        Assert.Contains("10.1.2.0/24 . udp . 53 counter packets 0 bytes 0 comment \"narrow\"", listed);
        Assert.Contains("comment \"wide\"", ns.Nft("list set inet netlinkfence allow_v6"));
        // A model rebuilt from the kernel's dump holds the same grants' regions: it plans the same elements.
        var set = compiled.Sets.Single(s => s.Set.Name == "allow_v4").Set;
        var dumped = await nft.ListElementsAsync(set);
        Assert.NotNull(dumped);
        Assert.Equal(Sorted(compiled.Sets.Single(s => s.Set.Name == "allow_v4").Elements),
            Sorted(AllowSetModel.FromKernel(set, dumped!, DateTimeOffset.UtcNow).Elements(DateTimeOffset.UtcNow)));
    }

    [Fact]
    public async Task Model_deltas_commit_as_one_transaction_and_match_the_model()
    {
        using var ns = TestNamespace.Create();
        var compiled = FaultPolicies.Compile("""
            version: 1
            egress:
              allow:
                - name: wide
                  to: [10.0.0.0/8]
                  tcp: [443]
                - name: host
                  to: [192.0.2.7]
                  tcp: [22]
            """);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await PolicyApplier.ApplyAsync(nft, compiled);
        var set = compiled.Sets.Single(s => s.Set.Name == "allow_v4").Set;
        var model = new AllowSetModel(set, compiled.Grants.Where(g => g.Network.BaseAddress.AddressFamily == AddressFamily.InterNetwork));
        var now = DateTimeOffset.UtcNow;
        var window = new AllowGrant("window", IPNetwork.Parse("10.1.2.0/24"), ProtocolType.Tcp, new PortRange(443, 443), now.AddMinutes(10));
        var longer = window with { Expires = now.AddMinutes(20) };
        var steps = new (AllowGrant[] Add, AllowGrant[] Remove)[]
        {
            // Splits wide's element in three (delete one, add three), in one batch.
            ([window], []),
            // The same key re-added with a new contributor: delete and add of one key in one batch.
            ([longer], []),
            // Both windows gone: wide's three pieces join again.
            ([], [window, longer]),
            ([new AllowGrant("late", IPNetwork.Parse("198.51.100.0/24"), ProtocolType.Udp, new PortRange(1000, 2000))], [new AllowGrant("host", IPNetwork.Parse("192.0.2.7/32"), ProtocolType.Tcp, new PortRange(22, 22))]),
        };
        foreach (var (add, remove) in steps)
        {
            var delta = model.Change(add, remove, DateTimeOffset.UtcNow);
            Assert.False(delta.IsEmpty);
            var tx = new Transaction();
            if (delta.Remove.Count > 0)
                tx.DeleteElements(set, delta.Remove);
            if (delta.Add.Count > 0)
                tx.AddElements(set, delta.Add);
            await nft.CommitAsync(tx);
            var live = await nft.ListElementsAsync(set);
            // The kernel lists pipapo elements in its own order: compare as sets.
            Assert.Equal(Sorted(model.Elements(DateTimeOffset.UtcNow)), Sorted(live!));
            Assert.All(live!, e => Assert.NotNull(e.Counter));
        }
        string listed = ns.Nft("list set inet netlinkfence allow_v4");
        Assert.Contains("10.0.0.0/8 . tcp . 443 counter packets 0 bytes 0 comment \"wide\"", listed);
        Assert.Contains("198.51.100.0/24 . udp . 1000-2000 counter packets 0 bytes 0 comment \"late\"", listed);
        Assert.DoesNotContain("192.0.2.7", listed);
    }
}
