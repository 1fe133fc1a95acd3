using System.Diagnostics;
using System.Globalization;
using NetlinkFence.Policy;
using NetlinkFence.Policy.Import;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// <c>import [RUNS]</c>: <c>netlinkfence import iptables</c> on the 10 MB files of issue 13's bad-input check (10 MB of
/// valid rules with no COMMIT; 10 MB of random bytes). Whole process, wall clock, median of RUNS (NativeAOT binary
/// from <c>NLF_AOT</c> when set, and the CLI from <c>NLF_CLI</c>); then the importer's steps in this process, CPU
/// time (read the file; tokenize every line; parse; the whole import), after one warm-up run.
/// </summary>
internal static class ImportSplit
{
    public static int Run(int runs)
    {
        string directory = Directory.CreateTempSubdirectory("nlfbench-import-").FullName;
        try
        {
            string truncated = Path.Combine(directory, "truncated.rules");
            WriteTruncated(truncated);
            string random = Path.Combine(directory, "random.rules");
            var bytes = new byte[10 << 20];
            new Random(13).NextBytes(bytes);
            File.WriteAllBytes(random, bytes);

            var programs = new List<(string Name, string Program, string[] Prefix)>();
            if (Environment.GetEnvironmentVariable("NLF_AOT") is { } aot)
                programs.Add(("NativeAOT", aot, []));
            if (Environment.GetEnvironmentVariable("NLF_CLI") is not null)
            {
                var (cli, prefix) = PolicyWorkload.Cli();
                programs.Add((string.Join(' ', [Path.GetFileName(cli), .. prefix.Select(Path.GetFileName)]), cli, prefix));
            }
            foreach (var (name, program, prefix) in programs)
            {
                foreach (string file in new[] { truncated, random })
                {
                    var wall = new List<double>();
                    for (int run = 0; run <= runs; run++)
                    {
                        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
                        foreach (string a in (string[])[.. prefix, "import", "iptables", file, "--output", Path.Combine(directory, "out.yaml")])
                            info.ArgumentList.Add(a);
                        long start = Stopwatch.GetTimestamp();
                        using var process = Process.Start(info)!;
                        process.StandardOutput.ReadToEnd();
                        process.StandardError.ReadToEnd();
                        process.WaitForExit();
                        if (run > 0) // the first run warms the page cache
                            wall.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                        if (process.ExitCode != 2)
                            throw new InvalidOperationException($"{name} import of {file} exited {process.ExitCode}, expected 2");
                    }
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{name} import iptables {Path.GetFileName(file)} ({new FileInfo(file).Length:N0} bytes): whole process, wall median {Matrix.F(Matrix.Median(wall))} ms, min {Matrix.F(wall.Min())} ms, max {Matrix.F(wall.Max())} ms over {wall.Count} runs"));
                }
            }

            var self = Process.GetCurrentProcess();
            for (int run = 0; run < 4; run++)
            {
                var source = Cpu(self, () => IptablesImporter.ReadFile(truncated), out double read);
                Cpu(self, () =>
                {
                    foreach (string line in source.Text.Split('\n'))
                        IptablesTokenizer.Split(line, out _);
                    return 0;
                }, out double tokenize);
                long allocated = GC.GetTotalAllocatedBytes(precise: true);
                Cpu(self, () => new IptablesSaveParser(truncated, false, new Dictionary<string, string>(), new PolicyRules()).Parse(source.Text), out double parse);
                allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
                Cpu(self, () =>
                {
                    try
                    {
                        return IptablesImporter.Import(new IptablesImportRequest { IPv4 = source, Defines = new Dictionary<string, string>(), PolicyName = "bench" });
                    }
                    catch (PolicyException)
                    {
                        return null;
                    }
                }, out double import);
                if (run > 0)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"in process, CPU: read {Matrix.F(read)} ms, tokenize every line {Matrix.F(tokenize)} ms, parse {Matrix.F(parse)} ms ({allocated / 1048576.0:0} MiB allocated), whole import (refused) {Matrix.F(import)} ms"));
            }
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The file of ImportCliTests' check: 10 MB of valid rules, then no COMMIT.</summary>
    private static void WriteTruncated(string path)
    {
        using var writer = new StreamWriter(path);
        writer.Write("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n");
        for (int i = 0; writer.BaseStream.Length < 10 << 20; i++)
            writer.Write(string.Create(CultureInfo.InvariantCulture, $"-A OUTPUT -d 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}/32 -p tcp -m tcp --dport 443 -m comment --comment \"entry {i}\" -j ACCEPT\n"));
    }

    private static T Cpu<T>(Process self, Func<T> step, out double milliseconds)
    {
        GC.Collect();
        self.Refresh();
        var before = self.TotalProcessorTime;
        T result = step();
        self.Refresh();
        milliseconds = (self.TotalProcessorTime - before).TotalMilliseconds;
        return result;
    }
}
