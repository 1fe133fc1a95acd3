using NetlinkFence.Cli;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Interop;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Rendering;
using NetlinkFence.Nftables.Snapshots;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
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
    public void WithJsonOutputAFailureIsAlsoOneJsonObjectOnStdoutWithEveryLocatedError()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nlf-bad-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "version: 1\negress:\n  alow: []\n  dns:\n    resolvers: $nope\n");
        try
        {
            foreach (string verb in new[] { $"apply {path} --netns does-not-matter --output json", $"--output json plan {path}", $"lint {path} --output json" })
            {
                var result = CliRunner.Run(verb);
                Assert.Equal(2, result.ExitCode);
                Assert.Contains($"{path}:3:3: error: unknown key 'alow'", result.Stderr); // the text stays on stderr
                Assert.DoesNotContain('\n', result.Stdout.TrimEnd()); // one line, like each of watch's JSON lines
                Assert.Contains("unknown key 'alow'", result.Stdout); // only what JSON requires is escaped: no \u0027 for a reader or grep
                using var json = System.Text.Json.JsonDocument.Parse(result.Stdout);
                var error = json.RootElement.GetProperty("error");
                Assert.Equal(2, error.GetProperty("exit").GetInt32());
                Assert.Equal("bad-input", error.GetProperty("kind").GetString());
                Assert.Contains("nothing was changed", error.GetProperty("message").GetString());
                var located = error.GetProperty("diagnostics").EnumerateArray()
                    .Select(d => $"{d.GetProperty("file").GetString()}:{d.GetProperty("line").GetInt32()}:{d.GetProperty("column").GetInt32()} {d.GetProperty("severity").GetString()} {d.GetProperty("code").GetString()}")
                    .ToList();
                Assert.Equal([$"{path}:3:3 error unknown-key", $"{path}:5:16 error undefined-variable"], located);
            }
            // Without --output json, stdout stays empty: the text is on stderr only.
            Assert.Empty(CliRunner.Run($"apply {path} --netns does-not-matter").Stdout);
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
        var json = CliRunner.RunUnprivileged($"apply {Example} --output json");
        Assert.Equal(4, json.ExitCode);
        using var document = System.Text.Json.JsonDocument.Parse(json.Stdout);
        Assert.Equal("permission", document.RootElement.GetProperty("error").GetProperty("kind").GetString());
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

        // The same refusal for a fleet's tooling: which operation, the errno, and the kernel's words.
        var json = CliRunner.Run($"apply {Example} --netns {ns.Name} --output json");
        Assert.True(json.ExitCode == 3, $"exit {json.ExitCode}: {json.Stderr}{json.Stdout}");
        using var document = System.Text.Json.JsonDocument.Parse(json.Stdout);
        var error = document.RootElement.GetProperty("error");
        Assert.Equal("kernel-refused", error.GetProperty("kind").GetString());
        var failure = error.GetProperty("failures").EnumerateArray().First();
        Assert.Equal("EPERM", failure.GetProperty("errno_name").GetString());
        Assert.Equal(1, failure.GetProperty("errno").GetInt32());
        Assert.Contains("table inet netlinkfence", failure.GetProperty("subject").GetString());
        Assert.True(failure.GetProperty("operation").GetInt32() >= 1);
        Assert.Equal(before, ns.Nft("list ruleset"));
    }
}

/// <summary>
/// Each failure maps to its exit code (<see cref="ExitCodes.Report"/>, the mapping <c>ExitCodes.Run</c> applies to every verb).
/// Each exception here is thrown for real by the code that throws it in use, where a test can make it do so; the rest
/// are constructed. A programmer's ArgumentException is a bug (70, with its stack trace), never "bad input".
/// </summary>
public sealed class CliFailureMappingTests
{
    private static Exception Thrown(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            return e;
        }
        throw new Xunit.Sdk.XunitException("nothing was thrown");
    }

    private static (int Code, string Output) Report(Exception e)
    {
        var output = new StringWriter();
        return (ExitCodes.Report(e, output), output.ToString());
    }

    public static TheoryData<string> Bugs => ["null dereference", "empty sequence", "library argument check"];

    private static Exception Bug(string kind) => kind switch
    {
        "null dereference" => Thrown(() => _ = Environment.GetEnvironmentVariable($"NLF_UNSET_{Guid.NewGuid():N}")!.Length),
        "empty sequence" => Thrown(() => _ = Array.Empty<int>().First()),
        _ => Thrown(() => _ = new Table(NftFamily.Inet, "")), // a caller passing an empty name: the caller's bug
    };

    [Theory]
    [MemberData(nameof(Bugs))]
    public void AnUnexpectedExceptionIsABugWithItsStackTraceNotBadInput(string kind)
    {
        var e = Bug(kind);
        var (code, output) = Report(e);
        Assert.Equal(ExitCodes.InternalError, code);
        Assert.NotEqual(ExitCodes.BadInput, code);
        Assert.Contains("this is a bug in netlinkfence", output);
        Assert.Contains(e.GetType().FullName!, output);
        Assert.Contains("   at ", output); // the stack trace, for the report
    }

    public static TheoryData<string, int> Typed => new()
    {
        { "policy", ExitCodes.BadInput },
        { "flow", ExitCodes.BadInput },
        { "namespace name", ExitCodes.BadInput },
        { "snapshot", ExitCodes.BadInput },
        { "nft syntax", ExitCodes.BadInput },
        { "encoding", ExitCodes.BadInput },
        { "ENOENT", ExitCodes.BadInput },
        { "EPERM", ExitCodes.Permission },
        { "EACCES", ExitCodes.Permission },
        { "batch EPERM", ExitCodes.Permission },
        { "object EPERM", ExitCodes.KernelRefused },
        { "generation conflict", ExitCodes.KernelRefused },
        { "kernel ENOENT", ExitCodes.KernelRefused },
        { "read back", ExitCodes.DriftOrFindings },
        { "timeout", ExitCodes.SystemFailure },
        { "decode", ExitCodes.SystemFailure },
        { "ENOBUFS", ExitCodes.SystemFailure },
        { "io", ExitCodes.SystemFailure },
    };

    private static Exception Failure(string kind) => kind switch
    {
        "policy" => Thrown(() => PolicyLoader.Load("version: 1\negress:\n  dns:\n    resolvers: $nope\n", "p.yaml")),
        "flow" => Thrown(() => ExpectedFlow.Parse("nonsense")),
        "namespace name" => Thrown(() => _ = new NftablesConnectionOptions { NetworkNamespace = "a/b" }.NamespacePath),
        "snapshot" => Thrown(() => TableSnapshot.Deserialize(new byte[3])),
        "nft syntax" => Thrown(() => NftSyntax.Name("two words", "chain")),
        "encoding" => new NetlinkEncodingException("attribute over 64 KiB"),
        "ENOENT" => new ErrnoException("open(/run/netns/x)", (int)Errno.NOENT),
        "EPERM" => new ErrnoException("setns(/run/netns/x, CLONE_NEWNET)", (int)Errno.PERM),
        "EACCES" => new ErrnoException("open(/run/netns/x)", (int)Errno.ACCES),
        "batch EPERM" => Rejected(-1, Errno.PERM),
        "object EPERM" => Rejected(0, Errno.PERM),
        "generation conflict" => Rejected(-1, Errno.RESTART),
        "kernel ENOENT" => new NetlinkKernelException("dumping (GETSET)", new KernelError(1, (int)Errno.NOENT, null, null)),
        "read back" => new ReadBackMismatchException([new TableDifference(DifferenceKind.Missing, "chain output", "the chain does not exist")]),
        "timeout" => new NetlinkTimeoutException("the kernel did not answer within 30 s"),
        "decode" => new NetlinkDecodeException("truncated attribute"),
        "ENOBUFS" => new ErrnoException("recvmsg", (int)Errno.NOBUFS),
        _ => new IOException("No space left on device"),
    };

    private static TransactionRejectedException Rejected(int index, Errno errno) =>
        new([new TransactionFailure(index, 1, index < 0 ? "the batch" : "add table inet t", null, new KernelError(1, (int)errno, null, null), null)]);

    [Theory]
    [MemberData(nameof(Typed))]
    public void EachLibraryFailureHasItsExitCodeAndOneLine(string kind, int expected)
    {
        var e = Failure(kind);
        if (e is not IOException)
            Assert.IsAssignableFrom<NetlinkFenceException>(e);
        var (code, output) = Report(e);
        Assert.True(code == expected, $"{kind}: exit {code}, expected {expected}: {output}");
        Assert.DoesNotContain("   at ", output); // no stack trace for what is not a bug
        Assert.DoesNotContain("bug", output);
    }

    [Fact]
    public void TheJsonOfASelfTestWhoseUndoFailedSaysThePolicyIsStillLive()
    {
        // Putting the previous table back failing is not something a test can make the kernel do; the JSON is built here.
        var failure = new SelfTestFailedException(["self-test failed, and putting the previous table back failed too: EBUSY", "THE FAILED POLICY IS STILL LIVE in x"], policyStillLive: true);
        var (code, text) = Report(failure);
        Assert.Equal(ExitCodes.SelfTestFailed, code);
        Assert.Equal("netlinkfence: self-test failed, and putting the previous table back failed too: EBUSY\nnetlinkfence: THE FAILED POLICY IS STILL LIVE in x\n", text.ReplaceLineEndings("\n"));
        using var json = System.Text.Json.JsonDocument.Parse(FailureJson.Of(failure, code, text));
        var error = json.RootElement.GetProperty("error");
        Assert.True(error.GetProperty("policy_still_live").GetBoolean());
        Assert.Equal("self-test-failed", error.GetProperty("kind").GetString());
        Assert.Equal(text.TrimEnd(), error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task CancellationIsLeftToTheCommandLineLibrary()
    {
        await Assert.ThrowsAsync<OperationCanceledException>(() => ExitCodes.Run(null, () => throw new OperationCanceledException()));
    }

    [Theory]
    [InlineData("show --table \"\"", "--table: table name must not be empty")]
    [InlineData("show --no-such-option", "--no-such-option")]
    public void ACommandLineThatDoesNotParseIsBadInput(string arguments, string said)
    {
        var result = CliRunner.Run(arguments);
        Assert.True(result.ExitCode == ExitCodes.BadInput, $"exit {result.ExitCode}: {result.Stderr}{result.Stdout}");
        Assert.Contains(said, result.Stderr);
    }
}
