using System.Diagnostics;
using NetlinkFence.Tests.Import;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Cli;

/// <summary><c>netlinkfence import iptables</c> as a user runs it: exit codes, messages, and files written or left alone.</summary>
public sealed class ImportCliTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nlf-import-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Rules(string name) => ImportTestSupport.PathOf(name);

    [Fact]
    public void The_seed_with_its_variables_defined_prints_the_golden_policy_and_exits_0()
    {
        var (code, stdout, stderr) = CliRunner.Run($"import iptables seed-egress.rules --define IRONCLAW_IP=203.0.113.50 --define REPO_IPS=198.51.100.80,198.51.100.81",
            workingDirectory: ImportTestSupport.RulesetDirectory);
        Assert.True(code == 0, stderr);
        Assert.Equal(File.ReadAllText(Rules("seed-egress.yaml")).Replace("seed-egress.yaml", "(standard output)"), stdout);
        Assert.Contains("imported 4 egress and 0 input entries", stderr);
    }

    [Fact]
    public void Without_defines_it_exits_2_naming_each_variable_with_line_and_column_and_writes_nothing()
    {
        string target = Path.Combine(_directory, "policy.yaml");
        var (code, stdout, stderr) = CliRunner.Run($"import iptables {Rules("seed-egress.rules")} --output {target}");
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Matches(@"seed-egress\.rules:18:21: error: shell variable \$IRONCLAW_IP", stderr);
        Assert.Matches(@"seed-egress\.rules:22:21: error: shell variable \$REPO_IPS", stderr);
        Assert.False(File.Exists(target));
        Assert.Empty(Directory.GetFiles(_directory));
    }

    [Fact]
    public void Output_writes_the_policy_that_plan_then_compiles()
    {
        string target = Path.Combine(_directory, "policy.yaml");
        // dual-stack.v6.rules accepts no neighbour discovery: the policy's built-in ND would make its IPv6 flows work.
        var (refused, _, why) = CliRunner.Run($"import iptables {Rules("dual-stack.v4.rules")} --ip6 {Rules("dual-stack.v6.rules")} --output {target}");
        Assert.Equal(2, refused);
        Assert.Contains("dual-stack.v6.rules:5:1: error: the ruleset drops IPv6 neighbour discovery", why);
        Assert.False(File.Exists(target));
        var (code, _, stderr) = CliRunner.Run($"import iptables {Rules("dual-stack.v4.rules")} --ip6 {Rules("dual-stack.v6.rules")} --partial --output {target}");
        Assert.True(code == 0, stderr);
        Assert.Contains($"into {target}", stderr);
        var (planCode, plan, planError) = CliRunner.Run($"plan {target}");
        Assert.True(planCode == 0, planError);
        Assert.Contains("2001:db8::50", plan);
        Assert.Contains("203.0.113.50", plan);
    }

    [Fact]
    public void Its_help_lists_one_output_option_the_file_to_write_while_other_verbs_keep_the_format_option()
    {
        var (code, help, stderr) = CliRunner.Run("import iptables --help");
        Assert.True(code == 0, stderr);
        var outputs = help.Split('\n').Where(line => line.TrimStart().StartsWith("--output", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["--output <output>"], outputs.Select(line => line.Trim()[..line.Trim().IndexOf("  ", StringComparison.Ordinal)]));
        Assert.Contains("write the policy to this file", outputs[0]);
        var (lintCode, lint, lintError) = CliRunner.Run($"--output json lint {Rules("seed-egress.yaml")}", workingDirectory: ImportTestSupport.RulesetDirectory);
        Assert.True(lintCode is 0 or 1, lintError);
        Assert.StartsWith("{", lint.TrimStart());
        var (showHelpCode, showHelp, _) = CliRunner.Run("show --help");
        Assert.Equal(0, showHelpCode);
        Assert.Contains("--output <json|text>", showHelp);
    }

    [Fact]
    public void A_failed_import_leaves_an_existing_output_file_as_it_was()
    {
        string target = Path.Combine(_directory, "policy.yaml");
        File.WriteAllText(target, "version: 1\n# the previous policy\n");
        var (code, _, stderr) = CliRunner.Run($"import iptables {Rules("order-dependent.rules")} --output {target}");
        Assert.Equal(2, code);
        Assert.Contains("order-dependent.rules:19:1: error: DROP before line 20's ACCEPT", stderr);
        Assert.Contains("nothing was changed", stderr);
        Assert.Equal("version: 1\n# the previous policy\n", File.ReadAllText(target));
        Assert.Single(Directory.GetFiles(_directory));
    }

    [Fact]
    public void Partial_exits_0_lists_what_was_not_imported_and_keeps_it_as_comments()
    {
        var (code, stdout, stderr) = CliRunner.Run($"import iptables {Rules("order-dependent.rules")} --partial");
        Assert.True(code == 0, stderr);
        Assert.Contains("7 line(s) NOT imported (--partial)", stderr);
        Assert.Contains("[not imported]", stderr);
        Assert.Contains("# NOT IMPORTED (--partial)", stdout);
    }

    [Theory]
    [InlineData("--define NOEQUALS", "NAME=VALUE")]
    [InlineData("--define 1BAD=x", "not a shell variable name")]
    public void Bad_defines_exit_2(string arguments, string message)
    {
        var (code, _, stderr) = CliRunner.Run($"import iptables {Rules("management-input.rules")} {arguments}");
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public void A_missing_file_and_a_directory_exit_2()
    {
        Assert.Equal(2, CliRunner.Run($"import iptables {Path.Combine(_directory, "none.rules")}").ExitCode);
        var (code, _, stderr) = CliRunner.Run($"import iptables {_directory}");
        Assert.Equal(2, code);
        Assert.Contains("regular file", stderr);
    }

    [Theory]
    [InlineData("random")]
    [InlineData("truncated")]
    public void Ten_megabytes_of_bad_input_exit_2_with_a_line_number_and_write_nothing(string kind)
    {
        string file = Path.Combine(_directory, "big.rules");
        string target = Path.Combine(_directory, "policy.yaml");
        if (kind == "random")
        {
            var bytes = new byte[10 << 20];
            new Random(13).NextBytes(bytes);
            File.WriteAllBytes(file, bytes);
        }
        else
        {
            // 10 MB of valid rules, then no COMMIT: only the end says the file is truncated.
            using var writer = new StreamWriter(file);
            writer.Write("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n");
            for (int i = 0; writer.BaseStream.Length < 10 << 20; i++)
                writer.Write($"-A OUTPUT -d 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}/32 -p tcp -m tcp --dport 443 -m comment --comment \"entry {i}\" -j ACCEPT\n");
        }
        var clock = Stopwatch.StartNew();
        var (code, stdout, stderr) = CliRunner.Run($"import iptables {file} --output {target}");
        output.WriteLine($"{kind}: {new FileInfo(file).Length:N0} bytes, exit {code} in {clock.ElapsedMilliseconds} ms (whole process, dotnet start included)");
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Matches(@"big\.rules:\d+:\d+: error: ", stderr);
        Assert.False(File.Exists(target));
    }
}
