using System.Diagnostics;
using NetlinkFence.Nftables;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// <c>commit-overhead [COMMITS]</c>: what the library adds to one small commit, warm and in a tight loop. One element
/// is added (generation-checked, as LivePolicy commits) and deleted again, COMMITS times, into a 100-element hash
/// set, next to the same bytes replayed on a raw socket. Prints time per commit for both and the bytes the library
/// allocates per commit (this thread). For a profile of the library's own code, run it under
/// <c>perf record</c> with <c>DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0</c>.
/// </summary>
internal static class CommitOverhead
{
    public static int Run(int commits)
    {
        using var ns = BenchNamespace.Create();
        using var connection = NftablesConnection.Open(new() { NetworkNamespace = ns.Name });
        connection.Commit(Workload.ReplaceWithSet(100));
        var add = Workload.AddOneHashElement();
        var delete = new Transaction().DeleteElements(Workload.ConcatHashSet, [Workload.NewHashElement]);
        using var raw = new RawBatch(add, ns.Name, asChecked: true);
        using var rawDelete = new RawBatch(delete, ns.Name, asChecked: true);
        uint generation = connection.GetGeneration();
        void Library()
        {
            var result = connection.CommitAsync(add, new CommitOptions { ExpectedGeneration = generation }).GetAwaiter().GetResult();
            generation = connection.CommitAsync(delete, new CommitOptions { ExpectedGeneration = result.GenerationAfter }).GetAwaiter().GetResult().GenerationAfter;
        }
        void Floor()
        {
            raw.Commit();
            rawDelete.Commit();
        }
        // NLF_ALLOCATION_TYPES=1: what the library's measured commits allocate, by type (sampled by the runtime).
        using var types = Environment.GetEnvironmentVariable("NLF_ALLOCATION_TYPES") == "1" ? new AllocationTypes() : null;
        for (int round = 0; round < 4; round++)
        {
            // The raw commits move the generation too: the library's loop starts from a fresh read.
            double floor = PerCommit(Floor, commits);
            generation = connection.GetGeneration();
            if (round == 1)
                types?.Start();
            long before = GC.GetAllocatedBytesForCurrentThread();
            double library = PerCommit(Library, commits);
            double allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / (2.0 * commits);
            if (round > 0) // the first round warms both up
                Console.WriteLine($"commit-overhead: floor {floor * 1000:0.00} us, library {library * 1000:0.00} us ({library / floor:0.00}x), "
                + $"library allocates {allocated:0} bytes per commit");
        }
        types?.Print(12);
        Cold(connection, add, delete, raw, rawDelete, rounds: 301);
        return 0;
    }

    /// <summary>
    /// Each commit timed alone after 5 ms of sleep (as <see cref="Paired"/> settles): the add is timed, the delete
    /// that undoes it is not. Medians and minimums of the floor, CommitAsync and the blocking Commit.
    /// </summary>
    private static void Cold(NftablesConnection connection, Transaction add, Transaction delete, RawBatch raw, RawBatch rawDelete, int rounds)
    {
        var floor = new double[rounds];
        var asynchronous = new double[rounds];
        var blocking = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            floor[r] = Settled(raw.Commit);
            rawDelete.Commit();
            uint generation = connection.GetGeneration();
            var options = new CommitOptions { ExpectedGeneration = generation };
            asynchronous[r] = Settled(() => connection.CommitAsync(add, options).GetAwaiter().GetResult());
            connection.Commit(delete);
            generation = connection.GetGeneration();
            options = new CommitOptions { ExpectedGeneration = generation };
            blocking[r] = Settled(() => connection.Commit(add, options));
            connection.Commit(delete);
        }
        static string Line(string name, double[] values) =>
            $"{name} median {Matrix.Median(values) * 1000:0.0} us, min {values.Min() * 1000:0.0} us";
        Console.WriteLine($"commit-overhead, cold (5 ms sleep before each): {Line("floor", floor)}; {Line("CommitAsync", asynchronous)}; {Line("Commit", blocking)}");
    }

    private static double Settled(Action action)
    {
        Thread.Sleep(5);
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }


    /// <summary>Milliseconds per commit (each call of <paramref name="pair"/> is two commits).</summary>
    private static double PerCommit(Action pair, int commits)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < commits; i++)
            pair();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds / (2.0 * commits);
    }
}
