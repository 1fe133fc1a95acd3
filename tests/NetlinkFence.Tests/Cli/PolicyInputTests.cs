using NetlinkFence.Tests.Kernel;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>Policy paths and --netns values that are not what they should be: refused plainly, exit 2, nothing echoed.</summary>
public sealed class PolicyInputTests
{
    private static readonly string Example = Path.Combine(ApplyPolicyTests.RepositoryRoot(), "examples", "ironclaw-agent.yaml");

    /// <summary>The CLI under <c>timeout</c>: a verb that blocks (a FIFO without writer) must fail the test, not hang it.</summary>
    private static (int ExitCode, string Stdout, string Stderr) RunGuarded(string arguments) =>
        TestNamespace.TryRun("timeout", $"300 dotnet {CliRunner.CliPath} {arguments}");

    [Theory]
    [InlineData("/dev/zero", "a character device")]
    [InlineData("/tmp", "a directory")]
    public void ADeviceOrDirectoryIsRefusedBeforeReading(string path, string kind)
    {
        var result = RunGuarded($"plan {path}");
        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.Contains($"the policy path is {kind}: a policy must be a regular file", result.Stderr);
    }

    [Fact]
    public void AFifoIsRefusedWithoutWaitingForAWriter()
    {
        string directory = Directory.CreateTempSubdirectory("nlf-fifo").FullName;
        try
        {
            string fifo = Path.Combine(directory, "policy.yaml");
            TestNamespace.Run("mkfifo", fifo);
            var result = RunGuarded($"plan {fifo}");
            Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Stderr}");
            Assert.Contains("the policy path is a FIFO: a policy must be a regular file", result.Stderr);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void AFileThatIsNotAPolicyIsNotEchoed()
    {
        string directory = Directory.CreateTempSubdirectory("nlf-shadow").FullName;
        try
        {
            string shadow = Path.Combine(directory, "shadow");
            File.WriteAllText(shadow, "root:$6$saltsalt$SECRETHASHSECRETHASH:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n");
            var result = CliRunner.Run($"plan {shadow}");
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("the file is not a policy", result.Stderr);
            Assert.DoesNotContain("SECRETHASH", result.Stderr + result.Stdout);
            Assert.DoesNotContain("19000", result.Stderr + result.Stdout);

            // A policy with a stray line that is not a word: the line is located, not quoted.
            string policy = Path.Combine(directory, "policy.yaml");
            File.WriteAllText(policy, "version: 1\n'root:$6$SECRETHASH:19000': x\n");
            var stray = CliRunner.Run($"plan {policy}");
            Assert.Equal(2, stray.ExitCode);
            Assert.Contains($"{policy}:2:1: error: unknown key in the policy (not shown: it is not a word)", stray.Stderr);
            Assert.DoesNotContain("SECRETHASH", stray.Stderr + stray.Stdout);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void WritableByOthersIsWarnedForTheFileAndEveryDirectoryAboveIt()
    {
        using var ns = TestNamespace.Create();
        string outer = Directory.CreateTempSubdirectory("nlf-owner").FullName;
        try
        {
            // A root-owned file, group-writable, in a world-writable directory without the sticky bit.
            string open = Path.Combine(outer, "open");
            Directory.CreateDirectory(open);
            File.SetUnixFileMode(open, (UnixFileMode)Convert.ToInt32("777", 8));
            string path = Path.Combine(open, "policy.yaml");
            File.Copy(Example, path);
            File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("664", 8));
            var result = CliRunner.Run($"apply {path} --netns {ns.Name}");
            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.Contains($"warning: {path} is group-writable", result.Stderr);
            Assert.Contains($"warning: directory {open} is world-writable; anyone can replace {path}", result.Stderr);

            // A directory owned by someone else, even with mode 755, lets that user replace the file.
            File.SetUnixFileMode(open, (UnixFileMode)Convert.ToInt32("755", 8));
            File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("644", 8));
            TestNamespace.Run("chown", $"65534 {open}");
            result = CliRunner.Run($"apply {path} --netns {ns.Name}");
            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.Contains($"warning: directory {open} is owned by uid 65534, not root", result.Stderr);
            Assert.DoesNotContain($"{path} is group-writable", result.Stderr);

            // Root's file, root's directories: no warning (a sticky world-writable /tmp above is fine for root's file).
            TestNamespace.Run("chown", $"0 {open}");
            result = CliRunner.Run($"apply {path} --netns {ns.Name}");
            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.DoesNotContain("warning", result.Stderr);
        }
        finally
        {
            Directory.Delete(outer, recursive: true);
        }
    }

    [Theory]
    [InlineData("\"\"", "--netns needs a name")]
    [InlineData("/etc/passwd", "/etc/passwd is not a network namespace")]
    [InlineData("/dev/zero", "/dev/zero is not a network namespace")]
    public void ANetnsThatIsNotANetworkNamespaceIsBadInput(string netns, string message)
    {
        foreach (string verb in new[] { "show", $"apply {Example}", $"plan {Example}", "remove" })
        {
            var result = RunGuarded($"{verb} --netns {netns}");
            Assert.True(result.ExitCode == 2, $"{verb}: exit {result.ExitCode}: {result.Stderr}");
            Assert.Contains(message, result.Stderr);
            Assert.DoesNotContain("   at ", result.Stderr);
        }
    }

    [Fact]
    public void NamingTheInitialNamespaceExplicitlyDrawsAWarning()
    {
        // The CLI is PID 1 of a new PID namespace inside a test network namespace, so "the initial namespace" is the
        // test's: /proc/self/ns/net is PID 1's own.
        using var ns = TestNamespace.Create();
        var result = TestNamespace.TryRun("ip", $"netns exec {ns.Name} unshare --pid --fork --mount-proc timeout 300 dotnet {CliRunner.CliPath} show --netns /proc/1/ns/net");
        Assert.Contains("warning: --netns /proc/1/ns/net is the host's initial network namespace", result.Stderr);
        var other = TestNamespace.TryRun("ip", $"netns exec {ns.Name} unshare --pid --fork --mount-proc timeout 300 dotnet {CliRunner.CliPath} show --netns /run/netns/{ns.Name}");
        Assert.Contains("warning: --netns", other.Stderr);
        using var elsewhere = TestNamespace.Create();
        var not = TestNamespace.TryRun("ip", $"netns exec {ns.Name} unshare --pid --fork --mount-proc timeout 300 dotnet {CliRunner.CliPath} show --netns {elsewhere.Name}");
        Assert.DoesNotContain("warning", not.Stderr);
        Assert.Equal(1, not.ExitCode); // no table there
    }
}
