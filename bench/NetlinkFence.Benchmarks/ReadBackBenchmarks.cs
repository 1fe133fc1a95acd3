using BenchmarkDotNet.Attributes;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// Reading a running policy of N entries (one destination each) back from the kernel, as <c>verify</c>, <c>stats</c>,
/// <c>status</c> and the daemon's metrics file do, against <c>nft list table</c> of the same table (baseline):
/// <list type="bullet">
/// <item><c>NftList</c>: <c>ip netns exec NS nft list table inet netlinkfence</c> (dump and print, whole process).</item>
/// <item><c>Compare</c>: one dump and <see cref="TableDiff.CompareRunning"/>, <c>verify</c>'s judgement.</item>
/// <item><c>Attach</c>: <see cref="LivePolicy.AttachAsync"/> (a dump, the structure checked, the allow sets modelled).</item>
/// <item><c>Counters</c>: <see cref="LivePolicy.ReadCountersAsync"/> on an attached policy (<c>stats</c>' per-entry counters).</item>
/// <item><c>MetricsEachReadItsOwn</c>: what <c>stats --prometheus</c> and the daemon's metrics file read, each part with a
/// listing of its own (compare, attach, counters, windows, the denied counters: five), as they did before 2026-12-06.</item>
/// <item><c>MetricsOneListing</c>: the same from one listing (<see cref="LivePolicy.Attach"/>,
/// <see cref="LivePolicy.ReadCounters(TableContents)"/>, <see cref="LivePolicy.Windows(TableContents)"/>), as they did until 2026-12-06 21:00.</item>
/// <item><c>MetricsWithoutAttach</c>: the same from one listing and no attach (<see cref="LivePolicy.ReadCounters(ResolvedPolicy, TableContents)"/>,
/// <see cref="LivePolicy.Windows(ResolvedPolicy, TableContents)"/>: no compilation, no allow set modelled), as they do now.</item>
/// </list>
/// The connection stays open between invocations, as in the daemon.
/// </summary>
[MemoryDiagnoser]
public class ReadBackBenchmarks
{
    private BenchNamespace _namespace = null!;
    private NftablesConnection _connection = null!;
    private CompiledPolicy _policy = null!;
    private LivePolicy _live = null!;

    [Params(1_000, 10_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _namespace = BenchNamespace.Create();
        _policy = PolicyWorkload.Compile(PolicyWorkload.Entries(Entries));
        _connection = NftablesConnection.Open(new() { NetworkNamespace = _namespace.Name });
        PolicyApplier.ApplyAsync(_connection, _policy).GetAwaiter().GetResult();
        _live = LivePolicy.AttachAsync(_connection, _policy.Source).GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public string NftList() => _namespace.NftOutput("list", "table", "inet", _policy.Table.Name);

    [Benchmark]
    public int Compare()
    {
        var live = _connection.ListTableAsync(NftFamily.Inet, _policy.Table.Name).GetAwaiter().GetResult();
        return TableDiff.CompareRunning(_policy, live, DateTimeOffset.UtcNow).Count;
    }

    [Benchmark]
    public LivePolicy Attach() => LivePolicy.AttachAsync(_connection, _policy.Source).GetAwaiter().GetResult();

    [Benchmark]
    public int Counters() => _live.ReadCountersAsync().GetAwaiter().GetResult().Count;

    [Benchmark]
    public int MetricsEachReadItsOwn()
    {
        int compared = Compare();
        var live = LivePolicy.AttachAsync(_connection, _policy.Source).GetAwaiter().GetResult();
        var counters = live.ReadCountersAsync().GetAwaiter().GetResult();
        var windows = live.WindowsAsync().GetAwaiter().GetResult();
        var denied = _connection.ListTableAsync(NftFamily.Inet, _policy.Table.Name).GetAwaiter().GetResult()!;
        return compared + counters.Count + windows.Count + denied.Rules.Count;
    }

    [Benchmark]
    public int MetricsOneListing()
    {
        var contents = _connection.ListTableAsync(NftFamily.Inet, _policy.Table.Name).GetAwaiter().GetResult()!;
        int compared = TableDiff.CompareRunning(_policy, contents, DateTimeOffset.UtcNow).Count;
        var live = LivePolicy.Attach(_connection, _policy.Source, contents);
        return compared + live.ReadCounters(contents).Count + live.Windows(contents).Count + contents.Rules.Count;
    }

    [Benchmark]
    public int MetricsWithoutAttach()
    {
        var contents = _connection.ListTableAsync(NftFamily.Inet, _policy.Table.Name).GetAwaiter().GetResult()!;
        int compared = TableDiff.CompareRunning(_policy, contents, DateTimeOffset.UtcNow).Count;
        return compared + LivePolicy.ReadCounters(_policy.Source, contents).Count + LivePolicy.Windows(_policy.Source, contents).Count + contents.Rules.Count;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _connection.Dispose();
        _namespace.Dispose();
    }
}
