using System.Diagnostics;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Faults;

/// <summary>
/// Issue 5, "Atomicity under fault": a batch refused anywhere in 1,000 operations changes nothing and names the
/// refused object; an apply killed (SIGKILL) at any point leaves the old table or the new one, never a mixture.
/// </summary>
public sealed class AtomicityUnderFaultTests(ITestOutputHelper output)
{
    private const string T = "keep";
    private const int N = 1000;

    /// <summary>Operation <paramref name="k"/> of 1,000 rule additions is refused, for 60 seeded values of k spanning 0..999.</summary>
    [Fact]
    public async Task ABatchRefusedAtAnyPositionOfAThousandChangesNothingAndNamesTheObject()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var set = Build.AddressPortSet(T, "pins");
        await nft.CommitAsync(new Transaction().AddTable(Build.Table(T)).AddChain(Build.BaseChain(T)).AddChain(Build.RegularChain(T, "bulk"))
            .AddSet(set).AddElements(set, [Build.AddressPort(1, 443), Build.AddressPort(2, 80)])
            .AddRule(Build.AcceptTo(T, "output", 1, "known 1")).AddRule(Build.JumpTo(T, "output", "bulk", "to bulk")));
        string jsonBefore = ns.Nft("-j list ruleset");
        var before = await nft.ListTableAsync(NftFamily.Inet, T);
        uint generation = await nft.GetGenerationAsync();

        // k: both ends, and 58 seeded draws across the range.
        var rng = new Random(5);
        var positions = new SortedSet<int> { 0, 1, N / 2, N - 2, N - 1 };
        while (positions.Count < 60)
            positions.Add(rng.Next(N));
        string[] kinds = ["jump to a missing chain", "rule in a missing chain", "lookup of a missing set"];
        int tried = 0;
        foreach (int k in positions)
        {
            string kind = kinds[tried % kinds.Length];
            var tx = new Transaction();
            for (int i = 0; i < N; i++)
            {
                var rule = i != k ? Build.AcceptTo(T, "bulk", i)
                    : kind switch
                    {
                        "jump to a missing chain" => Build.JumpTo(T, "bulk", "no_such_chain", "the bad one"),
                        "rule in a missing chain" => Build.AcceptTo(T, "no_such_chain", i, "the bad one"),
                        _ => new Rule(NftFamily.Inet, T, "bulk",
                        [
                            new PayloadExpression(PayloadBase.Network, 16, 4),
                            new LookupExpression("no_such_set", Registers.R1),
                            new ImmediateExpression(Verdict.Accept),
                        ], "the bad one"),
                    };
                tx.AddRule(rule, origin: $"policy.yaml:{i + 1}:5");
            }
            var e = await Assert.ThrowsAsync<TransactionRejectedException>(() => nft.CommitAsync(tx, new CommitOptions { ExpectedGeneration = generation }).AsTask());
            var failure = Assert.Single(e.Failures);
            Assert.True(k == failure.OperationIndex, $"k={k} ({kind}): the error names operation {failure.OperationIndex}: {e.Message}");
            Assert.Equal($"policy.yaml:{k + 1}:5", failure.Origin);
            Assert.Contains("the bad one", failure.Subject);
            Assert.Contains($"operation {k + 1} of {N}", e.Message);
            Assert.False(e.IsGenerationConflict);

            Assert.Equal(jsonBefore, ns.Nft("-j list ruleset"));
            Build.AssertSameContents(before, await nft.ListTableAsync(NftFamily.Inet, T));
            Assert.Equal(generation, await nft.GetGenerationAsync());
            tried++;
        }
        output.WriteLine($"{tried} positions refused (k from {positions.Min} to {positions.Max}), each named exactly, ruleset byte-identical every time");
    }

    /// <summary>
    /// The CLI's apply, killed with SIGKILL after a seeded delay spanning process start to the end of its commit,
    /// 50 times per seed (100 in all): the table is then exactly the old policy or exactly the new one.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task AnApplyKilledAtAnyPointLeavesTheOldTableOrTheNewOne(int seed)
    {
        const int Kills = 50;
        using var ns = TestNamespace.Create();
        string dir = Directory.CreateTempSubdirectory("nlf-kill").FullName;
        try
        {
            string[] yaml = [FaultPolicies.Yaml(1, 3000), FaultPolicies.Yaml(2, 3000)];
            var compiled = yaml.Select(y => FaultPolicies.Compile(y)).ToArray();
            string[] files = [FaultPolicies.WriteFile(dir, "a.yaml", yaml[0]), FaultPolicies.WriteFile(dir, "b.yaml", yaml[1])];
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
            await PolicyApplier.ApplyAsync(nft, compiled[0]);
            int current = 0;

            // How long a whole apply takes here: the kills are spread over it.
            var sw = Stopwatch.StartNew();
            var full = FaultPolicies.StartCli($"apply {files[1]} --netns {ns.Name}");
            await full.WaitForExitAsync();
            Assert.True(full.ExitCode == 0, await full.StandardError.ReadToEndAsync());
            double span = sw.Elapsed.TotalMilliseconds * 1.1;
            current = FaultPolicies.WhichOne(await nft.ListTableAsync(NftFamily.Inet, "netlinkfence"), compiled);
            Assert.Equal(1, current);

            var rng = new Random(seed);
            int killedBefore = 0, landed = 0, finished = 0;
            for (int i = 0; i < Kills; i++)
            {
                int next = 1 - current;
                using var process = FaultPolicies.StartCli($"apply {files[next]} --netns {ns.Name}");
                // Half uniform over the whole life, half over its last third (where the commit happens).
                double delay = i % 2 == 0 ? rng.NextDouble() * span : span * (2.0 / 3 + rng.NextDouble() / 3);
                await Task.Delay(TimeSpan.FromMilliseconds(delay));
                bool exited = process.HasExited;
                if (!exited)
                    process.Kill(entireProcessTree: true); // SIGKILL
                await process.WaitForExitAsync();
                finished += exited ? 1 : 0;

                int state = FaultPolicies.WhichOne(await nft.ListTableAsync(NftFamily.Inet, "netlinkfence"), compiled);
                if (state == next)
                    landed++;
                else
                    killedBefore++;
                current = state;
            }
            output.WriteLine($"seed {seed}: {Kills} SIGKILLs over {span:0} ms: {killedBefore} left the old table, {landed} the new one "
                + $"({finished} had already exited); never a mixture");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
