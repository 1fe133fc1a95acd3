using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using NetlinkFence.Benchmarks;

// `verify` checks that the library's transactions and the nft text files produce the same ruleset.
if (args is ["verify", ..])
    return Verify.Run();
// `paired [FILE]`: alternating floor/library commits, medians (see Paired.cs).
if (args is ["paired", ..])
    return Paired.Run(args.Length > 1 ? args[1] : null);

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
