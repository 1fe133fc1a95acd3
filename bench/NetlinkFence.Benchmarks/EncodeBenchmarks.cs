using BenchmarkDotNet.Attributes;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// <see cref="TransactionEncoder.Encode"/> alone: model objects to batch bytes in pooled segments, no syscall.
/// The transaction is the full-table replace of <see cref="CommitBenchmarks"/>. Allocated should read 0 B.
/// </summary>
[MemoryDiagnoser]
public class EncodeBenchmarks
{
    private Transaction _transaction = null!;
    private readonly BatchBuffer _batch = new();
    private int[] _map = new int[64];

    [Params(10, 1_000, 10_000)]
    public int Rules { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _transaction = Workload.ReplaceWithRules(Rules);
        TransactionEncoder.Encode(_transaction, _batch, 1, null, ref _map);
    }

    [Benchmark]
    public uint EncodeRules() => TransactionEncoder.Encode(_transaction, _batch, 1, null, ref _map);

    [GlobalCleanup]
    public void Cleanup() => _batch.Dispose();
}

/// <summary>Encoding the one-rule + N-element set transaction of <see cref="CommitSetBenchmarks"/>.</summary>
[MemoryDiagnoser]
public class EncodeSetBenchmarks
{
    private Transaction _transaction = null!;
    private readonly BatchBuffer _batch = new();
    private int[] _map = new int[64];

    [Params(10_000, 100_000)]
    public int Elements { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _transaction = Workload.ReplaceWithSet(Elements);
        TransactionEncoder.Encode(_transaction, _batch, 1, null, ref _map);
    }

    [Benchmark]
    public uint EncodeSet() => TransactionEncoder.Encode(_transaction, _batch, 1, null, ref _map);

    [GlobalCleanup]
    public void Cleanup() => _batch.Dispose();
}
