using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Faults;

/// <summary>
/// Issue 5, "Concurrency": two appliers with different policies race. Every apply lands whole or is refused
/// with "ruleset changed since it was read" (the generation-id check); a reader never sees a mixture; with
/// <c>--retry</c> every CLI apply succeeds.
/// </summary>
public sealed class ConcurrencyTests(ITestOutputHelper output)
{
    private const int Applies = 100;

    [Fact]
    public async Task TwoThreadsApplyingDifferentPoliciesNeverMix()
    {
        using var ns = TestNamespace.Create();
        var compiled = new[] { FaultPolicies.Compile(FaultPolicies.Yaml(1, 200)), FaultPolicies.Compile(FaultPolicies.Yaml(2, 200)) };
        int[] landed = new int[2], conflicts = new int[2];
        int listings = 0;
        using var done = new CancellationTokenSource();

        async Task Applier(int which)
        {
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
            for (int i = 0; i < Applies; i++)
            {
                try
                {
                    await PolicyApplier.ApplyAsync(nft, compiled[which]);
                    landed[which]++;
                }
                catch (TransactionRejectedException e)
                {
                    Assert.True(e.IsGenerationConflict, $"refused for another reason than a concurrent change: {e.Message}");
                    Assert.Contains("ruleset changed since it was read", e.Message);
                    conflicts[which]++;
                }
            }
        }

        async Task Reader()
        {
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
            while (!done.IsCancellationRequested)
            {
                if (await nft.ListTableAsync(NftFamily.Inet, "netlinkfence") is { } live)
                {
                    FaultPolicies.WhichOne(live, compiled);
                    listings++;
                }
            }
        }

        var reader = Task.Run(Reader);
        await Task.WhenAll(Task.Run(() => Applier(0)), Task.Run(() => Applier(1)));
        done.Cancel();
        await reader;
        // The independent oracle agrees at the end: nft lists exactly one policy's marker.
        string listing = ns.Nft("list table inet netlinkfence");
        Assert.True(listing.Contains("marker-1") ^ listing.Contains("marker-2"), listing);

        output.WriteLine($"threads: {Applies} applies each: landed {landed[0]} + {landed[1]}, refused as concurrent changes {conflicts[0]} + {conflicts[1]}; "
            + $"{listings} listings during the race, each exactly one policy");
        Assert.Equal(2 * Applies, landed.Sum() + conflicts.Sum());
        Assert.True(landed[0] > 0 && landed[1] > 0);
    }

    /// <summary>Two CLI processes, each applying its policy in a loop with <c>--retry</c>, while a thread also applies: all CLI applies succeed.</summary>
    [Fact]
    public async Task SeparateProcessesWithRetryAllSucceedAndNeverMix()
    {
        const int PerProcess = 100;
        using var ns = TestNamespace.Create();
        string dir = Directory.CreateTempSubdirectory("nlf-race").FullName;
        try
        {
            string[] yaml = [FaultPolicies.Yaml(1, 200), FaultPolicies.Yaml(2, 200), FaultPolicies.Yaml(3, 200)];
            var compiled = yaml.Select(y => FaultPolicies.Compile(y)).ToArray();
            string[] files = [FaultPolicies.WriteFile(dir, "a.yaml", yaml[0]), FaultPolicies.WriteFile(dir, "b.yaml", yaml[1])];
            using var done = new CancellationTokenSource();
            int threadLanded = 0, threadConflicts = 0, listings = 0;
            var attempts = new List<string>();

            // A thread that keeps changing the ruleset (policy 3) so the CLI processes really do meet conflicts.
            var hammer = Task.Run(async () =>
            {
                await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
                while (!done.IsCancellationRequested)
                {
                    try
                    {
                        await PolicyApplier.ApplyAsync(nft, compiled[2]);
                        threadLanded++;
                    }
                    catch (TransactionRejectedException e) when (e.IsGenerationConflict)
                    {
                        threadConflicts++;
                    }
                    if (await nft.ListTableAsync(NftFamily.Inet, "netlinkfence") is { } live)
                    {
                        FaultPolicies.WhichOne(live, compiled);
                        listings++;
                    }
                }
            });

            async Task Cli(int which)
            {
                for (int i = 0; i < PerProcess; i++)
                {
                    using var process = FaultPolicies.StartCli($"apply {files[which]} --netns {ns.Name} --retry 100");
                    string stdout = await process.StandardOutput.ReadToEndAsync();
                    string stderr = await process.StandardError.ReadToEndAsync();
                    await process.WaitForExitAsync();
                    Assert.True(process.ExitCode == 0, $"CLI apply {which} #{i} exited {process.ExitCode}: {stderr}{stdout}");
                    lock (attempts)
                        attempts.Add(stdout);
                }
            }

            await Task.WhenAll(Cli(0), Cli(1));
            done.Cancel();
            await hammer;

            // Without --retry a conflict is exit 3 with the plain message (forced: apply against a stale generation).
            await using (var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name }))
            {
                uint stale = await nft.GetGenerationAsync();
                await PolicyApplier.ApplyAsync(nft, compiled[0]);
                var e = await Assert.ThrowsAsync<TransactionRejectedException>(() =>
                    nft.CommitAsync(compiled[1].ToReplaceTransaction(), new CommitOptions { ExpectedGeneration = stale }).AsTask());
                Assert.True(e.IsGenerationConflict);
                Assert.Contains("ruleset changed since it was read", e.Message);
                FaultPolicies.WhichOne(await nft.ListTableAsync(NftFamily.Inet, "netlinkfence"), compiled);
            }

            output.WriteLine($"processes: {2 * PerProcess} CLI applies with --retry, all exit 0; racing thread landed {threadLanded}, "
                + $"was refused {threadConflicts} times; {listings} listings during the race, each exactly one policy");
            Assert.Equal(2 * PerProcess, attempts.Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
