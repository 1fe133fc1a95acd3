using BenchmarkDotNet.Attributes;
using NetlinkFence.Nftables;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// One atomic full-table replace (add table, delete table, add table + chain + N rules) in a fresh network
/// namespace, three ways:
/// <list type="bullet">
/// <item><c>Floor</c> (baseline): the library's own batch bytes, pre-encoded, one raw sendmsg + drain.</item>
/// <item><c>Library</c>: <see cref="NftablesConnection.CommitAsync"/> (encode + sendmsg + GETGEN marker round trip).</item>
/// <item><c>NftFile</c>: <c>ip netns exec NS nft -f FILE</c> with the same ruleset as nft text.</item>
/// </list>
/// Sockets of Floor and Library stay open between invocations, as in a daemon.
/// </summary>
[MemoryDiagnoser]
public class CommitBenchmarks : ThreeWayCommit
{
    [Params(10, 1_000, 10_000)]
    public int Rules { get; set; }

    protected override (Transaction Transaction, string NftText, string Tag) Workload() =>
        (NetlinkFence.Benchmarks.Workload.ReplaceWithRules(Rules), NetlinkFence.Benchmarks.Workload.ReplaceWithRulesText(Rules), $"rules-{Rules}");
}

/// <summary>The same three ways for one rule plus an <c>ipv4_addr . inet_service</c> set of N elements (full replace).</summary>
[MemoryDiagnoser]
public class CommitSetBenchmarks : ThreeWayCommit
{
    [Params(10_000, 100_000)]
    public int Elements { get; set; }

    protected override (Transaction Transaction, string NftText, string Tag) Workload() =>
        (NetlinkFence.Benchmarks.Workload.ReplaceWithSet(Elements), NetlinkFence.Benchmarks.Workload.ReplaceWithSetText(Elements), $"set-{Elements}");
}

/// <summary>One workload committed three ways in a fresh namespace: the raw pre-encoded bytes (floor), the library, and <c>nft -f</c>.</summary>
public abstract class ThreeWayCommit
{
    private BenchNamespace _namespace = null!;
    private Transaction _transaction = null!;
    private NftablesConnection? _connection;
    private RawBatch? _raw;
    private string _file = null!;

    /// <summary>The transaction, the equivalent nft text, and a tag for the temp file name.</summary>
    protected abstract (Transaction Transaction, string NftText, string Tag) Workload();

    [GlobalSetup]
    public void Setup()
    {
        _namespace = BenchNamespace.Create();
        var (transaction, text, tag) = Workload();
        _transaction = transaction;
        _connection = NftablesConnection.Open(new() { NetworkNamespace = _namespace.Name });
        _raw = new RawBatch(_transaction, _namespace.Name);
        _file = Path.Combine(Path.GetTempPath(), $"nlfbench-{tag}.nft");
        File.WriteAllText(_file, text);
    }

    [Benchmark(Baseline = true)]
    public void Floor() => _raw!.Commit();

    [Benchmark]
    public CommitResult Library() => _connection!.CommitAsync(_transaction).GetAwaiter().GetResult();

    [Benchmark]
    public void NftFile() => _namespace.Nft("-f", _file);

    [GlobalCleanup]
    public void Cleanup()
    {
        _connection?.Dispose();
        _raw?.Dispose();
        _namespace.Dispose();
        File.Delete(_file);
    }
}

/// <summary>Fixed cost of the baseline: <c>ip netns exec NS nft -f</c> on an empty file, and <c>ip netns exec NS true</c>.</summary>
public class NftStartupBenchmarks
{
    private BenchNamespace _namespace = null!;
    private string _file = null!;

    [GlobalSetup]
    public void Setup()
    {
        _namespace = BenchNamespace.Create();
        _file = Path.Combine(Path.GetTempPath(), "nlfbench-empty.nft");
        File.WriteAllText(_file, "");
    }

    [Benchmark(Baseline = true)]
    public void IpNetnsExecTrue() => BenchNamespace.Run("ip", "netns", "exec", _namespace.Name, "true");

    [Benchmark]
    public void NftEmptyFile() => _namespace.Nft("-f", _file);

    [GlobalCleanup]
    public void Cleanup()
    {
        _namespace.Dispose();
        File.Delete(_file);
    }
}
