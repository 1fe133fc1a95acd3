using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>
/// A small commit (one element, generation-checked: how LivePolicy opens a window or adds an address) allocates
/// nothing on the library's side but its <see cref="CommitResult"/>: no reply bookkeeping, no closures, no pins.
/// Deterministic: <see cref="GC.GetAllocatedBytesForCurrentThread"/> counts what this thread allocates, and every
/// step of these commits completes on it (the kernel has queued the ACK when sendmsg returns).
/// </summary>
public sealed class CommitAllocationTests
{
    private const string T = "calloc";

    [Fact]
    public void A_small_generation_checked_commit_allocates_only_its_result()
    {
        using var ns = TestNamespace.Create();
        using var nft = NftablesConnection.Open(new() { NetworkNamespace = ns.Name });
        var set = Build.AddressPortSet(T, "allow");
        nft.Commit(new Transaction().AddTable(Build.Table(T)).AddSet(set));
        var element = Build.AddressPort(7, 443);
        var add = new Transaction().AddElements(set, [element]);
        var delete = new Transaction().DeleteElements(set, [element]);
        uint generation = nft.GetGeneration();

        void Pair()
        {
            var added = nft.CommitAsync(add, new CommitOptions { ExpectedGeneration = generation }).GetAwaiter().GetResult();
            generation = nft.CommitAsync(delete, new CommitOptions { ExpectedGeneration = added.GenerationAfter }).GetAwaiter().GetResult().GenerationAfter;
        }

        for (int i = 0; i < 50; i++)
            Pair();
        const int Pairs = 200;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Pairs; i++)
            Pair();
        double perCommit = (GC.GetAllocatedBytesForCurrentThread() - before) / (2.0 * Pairs);

        Assert.Equal(generation, nft.GetGeneration()); // every commit applied, each moved the generation by one
        // The test's CommitOptions and the library's CommitResult: 88 bytes on x64. Before the reply bookkeeping,
        // the reference lookup's closure and the send's pin array went, a commit allocated 448.
        Assert.True(perCommit <= 96, $"a one-element commit allocated {perCommit:0} bytes; only its options and its CommitResult (88) are expected");
    }
}
