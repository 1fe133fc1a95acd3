using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Tests.Uapi;

/// <summary>
/// Every C# UAPI constant must equal the value the installed kernel/libc headers define. The test writes a C
/// program that prints every constant, compiles it with gcc, runs it and compares. It needs gcc and the
/// headers (Debian: gcc, libc6-dev, linux-libc-dev) and fails, never skips, without them.
/// </summary>
public sealed partial class UapiConstantsTests
{
    private const string GccPath = "/usr/bin/gcc";
    private const int MinimumConstants = 300;
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(2);

    /// <summary>One enum member and the C constant it stands for.</summary>
    private sealed record Constant(Type Enum, string Member, string CName, string Header, long Value)
    {
        public string Describe() => $"{Enum.Name}.{Member} ({CName}, <{Header}>)";
    }

    private static readonly Assembly InteropAssembly = typeof(UapiPrefixAttribute).Assembly;

    [Fact]
    public void Every_uapi_constant_equals_the_installed_header_value()
    {
        IReadOnlyList<Constant> constants = CollectConstants();
        Assert.True(constants.Count > MinimumConstants,
            $"only {constants.Count} UAPI constants found by reflection over {InteropAssembly.GetName().Name}; expected more than {MinimumConstants} (is [UapiPrefix] missing?)");

        string gcc = RequireGcc();
        DirectoryInfo work = Directory.CreateTempSubdirectory("netlinkfence-uapi-");
        try
        {
            var names = constants.Select(c => c.CName).Distinct(StringComparer.Ordinal).ToList();
            var headers = constants.Select(c => c.Header).Distinct(StringComparer.Ordinal).ToList();
            var undeclared = new SortedSet<string>(StringComparer.Ordinal);

            // A constant the headers do not declare is a compile error; collect those names, drop them and
            // compile again, so one run reports every problem at once.
            string program = Path.Combine(work.FullName, "uapi");
            for (int attempt = 0; ; attempt++)
            {
                string source = Path.Combine(work.FullName, "uapi.c");
                File.WriteAllText(source, GenerateProgram(headers, names.Where(n => !undeclared.Contains(n))));
                var (exit, stdout, stderr) = Run(gcc, ["-std=gnu11", "-O0", "-w", "-o", program, source], work.FullName);
                string output = stdout + stderr;
                if (exit == 0)
                    break;
                var missing = UndeclaredNames(output).Where(n => !undeclared.Contains(n)).ToList();
                if (missing.Count == 0 || attempt > 20)
                    Assert.Fail($"gcc could not compile the generated constants program (exit {exit}).\n{output}\n--- {source} ---\n{File.ReadAllText(source)}");
                undeclared.UnionWith(missing);
            }

            var (runExit, printed, errors) = Run(program, [], work.FullName);
            Assert.True(runExit == 0, $"the generated constants program exited with {runExit}:\n{printed}{errors}");
            Dictionary<string, long> values = ParseOutput(printed);

            var problems = new List<string>();
            foreach (Constant constant in constants)
            {
                if (undeclared.Contains(constant.CName))
                    problems.Add($"{constant.Describe()}: C# has {constant.Value}, but the header does not declare {constant.CName}");
                else if (!values.TryGetValue(constant.CName, out long expected))
                    problems.Add($"{constant.Describe()}: no value printed by the generated program");
                else if (expected != constant.Value)
                    problems.Add($"{constant.Describe()}: C# has {Format(constant.Value)}, the header has {Format(expected)}");
            }
            Assert.True(problems.Count == 0,
                $"{problems.Count} of {constants.Count} UAPI constants disagree with the installed headers:\n  " + string.Join("\n  ", problems));
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [Fact]
    public void Every_enum_in_the_uapi_namespace_names_its_prefix_and_header()
    {
        var unmarked = InteropAssembly.GetTypes()
            .Where(t => t.IsEnum && t.Namespace == typeof(UapiPrefixAttribute).Namespace)
            .Where(t => t.GetCustomAttribute<UapiPrefixAttribute>() is null)
            .Select(t => t.FullName)
            .ToList();
        Assert.True(unmarked.Count == 0,
            "these UAPI enums have no [UapiPrefix], so their values are never checked against the headers: " + string.Join(", ", unmarked));
    }

    [Theory]
    [InlineData("NFT_REG_", "R1", "NFT_REG_1")]
    [InlineData("NFT_REG_", "VERDICT", "NFT_REG_VERDICT")]
    [InlineData("NFT_REG32_", "R00", "NFT_REG32_00")]
    [InlineData("NFT_REG32_", "R15", "NFT_REG32_15")]
    [InlineData("E", "_2BIG", "E2BIG")]
    [InlineData("E", "PERM", "EPERM")]
    [InlineData("NFTA_", "RULE", "NFTA_RULE")] // an R not followed by a digit stays
    public void C_names_are_rebuilt_from_prefix_and_member(string prefix, string member, string expected) =>
        Assert.Equal(expected, CName(prefix, member));

    [Fact]
    public void Known_values_are_collected_with_their_c_names()
    {
        var byName = CollectConstants().ToLookup(c => c.CName);
        Assert.Contains(byName["NFT_REG_1"], c => c.Value == 1);
        Assert.Contains(byName["NFT_REG32_00"], c => c.Value == 8);
        Assert.Contains(byName["E2BIG"], c => c.Value == 7);
        Assert.Contains(byName["NFT_JUMP"], c => c.Value == -3);
        Assert.Contains(byName["NLA_F_NESTED"], c => c.Value == 0x8000);
    }

    private static IReadOnlyList<Constant> CollectConstants()
    {
        var constants = new List<Constant>();
        foreach (Type type in InteropAssembly.GetTypes().Where(t => t.IsEnum).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            if (type.GetCustomAttribute<UapiPrefixAttribute>() is not { } uapi)
                continue;
            foreach (FieldInfo field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                object raw = field.GetRawConstantValue()!;
                long value = raw is ulong u ? unchecked((long)u) : Convert.ToInt64(raw, CultureInfo.InvariantCulture);
                constants.Add(new Constant(type, field.Name, CName(uapi.Prefix, field.Name), uapi.Header, value));
            }
        }
        return constants;
    }

    /// <summary>Prefix + member, with a leading '_' dropped (E2BIG) and a leading 'R' before a digit dropped (NFT_REG_1).</summary>
    private static string CName(string prefix, string member)
    {
        if (member.StartsWith('_'))
            member = member[1..];
        else if (member.Length > 1 && member[0] == 'R' && char.IsAsciiDigit(member[1]))
            member = member[1..];
        return prefix + member;
    }

    private static string GenerateProgram(IEnumerable<string> headers, IEnumerable<string> names)
    {
        var c = new StringBuilder();
        c.AppendLine("/* generated by UapiConstantsTests */");
        c.AppendLine("#include <stdio.h>");
        c.AppendLine("#include <sys/socket.h>");
        c.AppendLine("#include <linux/netlink.h>");
        c.AppendLine("#include <linux/netfilter.h>");
        foreach (string header in headers)
            c.AppendLine($"#include <{header}>");
        c.AppendLine("int main(void)");
        c.AppendLine("{");
        foreach (string name in names)
            c.AppendLine($"    printf(\"%s=%lld\\n\", \"{name}\", (long long)({name}));");
        c.AppendLine("    return 0;");
        c.AppendLine("}");
        return c.ToString();
    }

    private static Dictionary<string, long> ParseOutput(string output)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = line.IndexOf('=');
            if (eq <= 0 || !long.TryParse(line.AsSpan(eq + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                throw new Xunit.Sdk.XunitException($"unexpected line from the generated program: '{line}'");
            values[line[..eq]] = value;
        }
        return values;
    }

    /// <summary>Names gcc reports as undeclared (LC_ALL=C, so quotes are plain ASCII).</summary>
    private static IEnumerable<string> UndeclaredNames(string gccOutput) =>
        UndeclaredPattern().Matches(gccOutput).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal);

    [GeneratedRegex(@"['‘`]([A-Za-z_][A-Za-z0-9_]*)['’] undeclared")]
    private static partial Regex UndeclaredPattern();

    private static string RequireGcc()
    {
        if (File.Exists(GccPath))
            return GccPath;
        string? onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "gcc"))
            .FirstOrDefault(File.Exists);
        return onPath ?? throw new Xunit.Sdk.XunitException(
            $"gcc is not installed ({GccPath} not found and no gcc on PATH): this test compiles the kernel UAPI headers to check every constant. " +
            "Install it with `apt-get install -y gcc libc6-dev` (or run `sudo bash .ci/run`, which installs it).");
    }

    private static (int ExitCode, string Stdout, string Stderr) Run(string file, IReadOnlyList<string> arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment["LC_ALL"] = "C";
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(ProcessTimeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} did not finish within {ProcessTimeout.TotalSeconds} s");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string Format(long value) =>
        value > 9 ? $"{value} (0x{value:x})" : value.ToString(CultureInfo.InvariantCulture);
}
