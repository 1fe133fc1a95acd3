using NetlinkFence.Tests.Kernel;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>The CLI's exit codes and one-line explanations (DESIGN.md: 0 ok, 1 drift, 2 bad input, 3 kernel refused, 4 permission).</summary>
public sealed class CliExitCodeTests
{
    private static readonly string Example = Path.Combine(ApplyPolicyTests.RepositoryRoot(), "examples", "ironclaw-agent.yaml");

    [Fact]
    public void ApplyThenRemoveInANamespace()
    {
        using var ns = TestNamespace.Create();
        var apply = CliRunner.Run($"apply {Example} --netns {ns.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr + apply.Stdout);
        Assert.Contains("verified by reading it back", apply.Stdout);
        Assert.Contains("policy drop", ns.Nft("list table inet netlinkfence"));

        var remove = CliRunner.Run($"remove --netns {ns.Name}");
        Assert.Equal(0, remove.ExitCode);
        Assert.DoesNotContain("netlinkfence", ns.Nft("list tables"));
    }

    [Fact]
    public void BadPolicyExitsTwoWithEveryErrorLocated()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nlf-bad-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "version: 1\negress:\n  alow: []\n  dns:\n    resolvers: $nope\n");
        try
        {
            var result = CliRunner.Run($"apply {path} --netns does-not-matter");
            Assert.Equal(2, result.ExitCode);
            Assert.Contains($"{path}:3:3: error: unknown key 'alow'", result.Stderr);
            Assert.Contains("did you mean 'allow'", result.Stderr);
            Assert.Contains($"{path}:5:16: error: undefined variable '$nope'", result.Stderr);
            Assert.Contains("nothing was changed", result.Stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MissingNamespaceIsBadInput()
    {
        var result = CliRunner.Run($"apply {Example} --netns nlf-no-such-namespace");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("/run/netns/nlf-no-such-namespace", result.Stderr);
    }

    [Fact]
    public void WithoutCapNetAdminExitsFourWithAPlainExplanation()
    {
        var result = CliRunner.RunUnprivileged($"apply {Example}");
        Assert.True(result.ExitCode == 4, $"exit {result.ExitCode}: {result.Stderr}{result.Stdout}");
        Assert.Contains("CAP_NET_ADMIN", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr); // no stack trace
    }

    [Fact]
    public void PolicyWritableByOthersDrawsAWarning()
    {
        using var ns = TestNamespace.Create();
        string path = Path.Combine(Path.GetTempPath(), $"nlf-perm-{Guid.NewGuid():N}.yaml");
        File.Copy(Example, path);
        try
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
            TestNamespace.Run("chown", $"65534 {path}");
            var result = CliRunner.Run($"apply {path} --netns {ns.Name}");
            Assert.Equal(0, result.ExitCode);
            Assert.Contains("world-writable", result.Stderr);
            Assert.Contains("owned by uid 65534", result.Stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>A kernel refusal names the object and the policy line it came from, and exits 3.</summary>
public sealed class CliKernelRefusalTests
{
    private static readonly string Example = Path.Combine(ApplyPolicyTests.RepositoryRoot(), "examples", "ironclaw-agent.yaml");

    [Fact]
    public async Task ATableOwnedByAnotherProcessIsRefusedWithExitThree()
    {
        using var ns = TestNamespace.Create();
        // Another process holds "netlinkfence" with the owner flag: only its socket may change the table.
        await using var owner = await NetlinkFence.Nftables.NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await owner.CommitAsync(new NetlinkFence.Nftables.Transaction().AddTable(
            new NetlinkFence.Nftables.Table(NetlinkFence.Nftables.NftFamily.Inet, "netlinkfence") { Flags = (uint)NetlinkFence.Interop.Uapi.NftTableFlags.OWNER }));
        string before = ns.Nft("list ruleset");

        var result = CliRunner.Run($"apply {Example} --netns {ns.Name}");
        Assert.True(result.ExitCode == 3, $"exit {result.ExitCode}: {result.Stderr}{result.Stdout}");
        Assert.Contains("table inet netlinkfence", result.Stderr);
        Assert.Contains("EPERM", result.Stderr);
        Assert.Contains("ironclaw-agent.yaml", result.Stderr);
        Assert.Contains("nothing was applied", result.Stderr);
        Assert.Equal(before, ns.Nft("list ruleset"));
    }
}
