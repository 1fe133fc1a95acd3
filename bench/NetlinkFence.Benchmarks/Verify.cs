using System.Text.RegularExpressions;
using NetlinkFence.Nftables;

namespace NetlinkFence.Benchmarks;

/// <summary>Commits each workload with the library in one namespace and with nft -f in another; the listings must match.</summary>
internal static partial class Verify
{
    public static int Run(string? root = null)
    {
        int failures = 0;
        // The interval set and the one-element add of the matrix: the library's [a, a+1) elements list as nft's.
        failures += Check("interval-1000+1", Workload.ReplaceWithIntervalSet(1000).AddElements(Workload.IntervalSet, Workload.IntervalElements(Workload.NewIntervalAddress).ToList()),
            Workload.ReplaceWithIntervalSetText(1000) + $"add element inet {Workload.TableName} {Workload.IntervalSetName} {{ {Workload.NewIntervalElementText} }}\n");
        failures += Check("hash-1000+1", Workload.ReplaceWithSet(1000).AddElements(Workload.ConcatHashSet, [Workload.NewHashElement]),
            Workload.ReplaceWithSetText(1000) + $"add element inet {Workload.TableName} {Workload.SetName} {{ {Workload.NewHashElementText} }}\n");
        if (root is not null)
        {
            // Policies: the compiled transaction against what `netlinkfence plan` prints.
            foreach (string policy in new[] { PolicyWorkload.Entries(10), PolicyWorkload.Destinations(1000), PolicyWorkload.Example(root) })
                failures += Check(Path.GetFileNameWithoutExtension(policy), PolicyWorkload.Transaction(policy), File.ReadAllText(PolicyWorkload.PlanFile(policy)));
            PolicyWorkload.Cleanup();
        }
        failures += Check("rules-10", Workload.ReplaceWithRules(10), Workload.ReplaceWithRulesText(10));
        failures += Check("rules-1000", Workload.ReplaceWithRules(1000), Workload.ReplaceWithRulesText(1000));
        failures += Check("set-10000", Workload.ReplaceWithSet(10_000), Workload.ReplaceWithSetText(10_000));
        Console.WriteLine(failures == 0 ? "verify: library and nft -f produce identical rulesets" : $"verify: {failures} mismatches");
        return failures == 0 ? 0 : 1;
    }

    private static int Check(string name, Transaction transaction, string text)
    {
        using var library = BenchNamespace.Create();
        using var nft = BenchNamespace.Create();
        using (var connection = NftablesConnection.Open(new() { NetworkNamespace = library.Name }))
        {
            connection.CommitAsync(transaction).GetAwaiter().GetResult();
            connection.CommitAsync(transaction).GetAwaiter().GetResult(); // the replace works on an existing table too
        }
        string file = Path.Combine(Path.GetTempPath(), $"nlfbench-verify-{name}.nft");
        File.WriteAllText(file, text);
        nft.Nft("-f", file);
        nft.Nft("-f", file);
        File.Delete(file);
        string a = Normalize(library.NftOutput("list", "ruleset"));
        string b = Normalize(nft.NftOutput("list", "ruleset"));
        bool same = a == b;
        Console.WriteLine($"verify {name}: {(same ? "identical" : "DIFFERENT")} ({a.Length} chars)");
        if (!same)
        {
            File.WriteAllText($"/tmp/nlfbench-verify-{name}-library.txt", a);
            File.WriteAllText($"/tmp/nlfbench-verify-{name}-nft.txt", b);
        }
        return same ? 0 : 1;
    }

    private static string Normalize(string listing) => Handle().Replace(listing, "");

    [GeneratedRegex(@" # handle \d+")]
    private static partial Regex Handle();
}
