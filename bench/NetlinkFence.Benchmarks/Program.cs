using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using NetlinkFence.Benchmarks;

// `verify` checks that the library's transactions and the nft text files produce the same ruleset.
if (args is ["verify", ..])
    return Verify.Run(args.Length > 1 ? args[1] : null);
// `paired [FILE]`: alternating floor/library commits, medians (see Paired.cs).
if (args is ["paired", ..])
    return Paired.Run(args.Length > 1 ? args[1] : null);

// `commit-overhead [COMMITS]`: the library's own cost in a small warm commit, and its allocations (CommitOverhead.cs).
if (args is ["commit-overhead", ..])
    return CommitOverhead.Run(args.Length > 1 ? int.Parse(args[1]) : 20_000);

// `dns-refresh [NAMES] [ROUNDS]`: CPU of one DNS refresh round against a local dnsmasq (DnsRefreshRound.cs).
if (args is ["dns-refresh", ..])
    return DnsRefreshRound.Run(args.Length > 1 ? int.Parse(args[1]) : 1_000, args.Length > 2 ? int.Parse(args[2]) : 10);

// `import [RUNS]`: import iptables of 10 MB of bad input, whole process and its steps in process (ImportSplit.cs).
if (args is ["import", ..])
    return ImportSplit.Run(args.Length > 1 ? int.Parse(args[1]) : 9);

// `matrix ROOT [FILE] [SCALE]`: every commit-latency case in fresh namespaces, floor / library / nft side by side (Matrix.cs).
// `process ROOT [FILE] [SCALE]`: whole-process netlinkfence apply vs nft -f of what plan prints (WholeProcess.cs).
// SCALE divides the number of runs (for a quick try); 1 by default.
// `nflog [RECORDS]`: NFLOG decode rate on one thread, from a flood captured in a namespace (NflogDecode.cs).
if (args is ["nflog", ..])
    return NflogDecode.Run(args.Length > 1 ? int.Parse(args[1]) : 200_000);
if (args is ["phases-generated"])
    return Run(() => ApplyPhases.Run([PolicyWorkload.Destinations(1_000), PolicyWorkload.Destinations(1_000), PolicyWorkload.Destinations(100_000), PolicyWorkload.Entries(1_000)]));
if (args is ["phases-entries", ..])
    return Run(() => ApplyPhases.Run(args.Skip(1).SelectMany(n => Enumerable.Repeat(PolicyWorkload.Entries(int.Parse(n)), 3)).ToList()));
if (args is ["load-split", ..])
    return LoadSplit.Run(args.Skip(1).Select(int.Parse));
if (args is ["compile-split", ..])
    return CompileSplit.Run(args.Skip(1).Select(int.Parse));
if (args is ["phases", ..])
    return ApplyPhases.Run(args.Skip(1));
if (args is ["matrix", var root, ..])
    return Run(() => Matrix.Run(root, args.Length > 2 ? args[2] : null, args.Length > 3 ? int.Parse(args[3]) : 1));
if (args is ["process", var root2, ..])
    return Run(() => WholeProcess.Run(root2, args.Length > 2 ? args[2] : null, args.Length > 3 ? int.Parse(args[3]) : 1, args.Length > 4 ? args[4] : null));

// In-process: the commit benchmarks need root and create network namespaces; no child build needed.
// Short job (1 launch, 3 warm-up, 10 measured iterations) so bench/run.sh finishes in minutes on 2 cores.
var job = Job.Default
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithLaunchCount(1)
    .WithWarmupCount(3)
    .WithIterationCount(10)
    .AsDefault();
var config = DefaultConfig.Instance
    .AddJob(job)
    .AddColumn(new PerItemColumn(), new RatioToMethodColumn("NftFile", "vs nft -f"))
    .WithOptions(ConfigOptions.DisableLogFile | ConfigOptions.KeepBenchmarkFiles);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return 0;

static int Run(Func<int> mode)
{
    try
    {
        return mode();
    }
    finally
    {
        PolicyWorkload.Cleanup();
    }
}
