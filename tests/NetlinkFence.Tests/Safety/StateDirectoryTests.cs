using System.Diagnostics;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Safety;

/// <summary>
/// The rollback state directory and its files, attacked: an untrusted directory, symbolic links and foreign files
/// in place of the state's files, corrupt snapshots. Root acts on what it reads there, so each attack must be
/// refused with a clear message (exit 2) and leave the live table exactly as it was; nothing is ever written
/// through a link. Every test uses its own state directory (NETLINKFENCE_STATE_DIR) and namespace.
/// </summary>
public sealed class StateDirectoryTests
{
    private const string Nobody = "65534";
    private static readonly string Before = SafetyPolicies.Write(SafetyPolicies.Text("[443]"));
    private static readonly string After = SafetyPolicies.Write(SafetyPolicies.Text("[443, 8443]"));

    [Theory]
    [InlineData("owned-by-nobody")]
    [InlineData("world-writable")]
    [InlineData("group-writable")]
    [InlineData("symlink")]
    public void AnUntrustedStateDirectoryIsRefusedAndTheTableStays(string kind)
    {
        using var ns = TestNamespace.Create();
        using var state = new StateDir();
        state.Ok($"apply {Before} --netns {ns.Name}");
        state.Ok($"apply {After} --netns {ns.Name}"); // saves Before for rollback
        string applied = ns.Nft("list ruleset");
        string directory = state.Path;
        switch (kind)
        {
            case "owned-by-nobody": TestNamespace.Run("chown", $"{Nobody} {directory}"); break;
            case "world-writable": File.SetUnixFileMode(directory, (UnixFileMode)Convert.ToInt32("1777", 8)); break;
            case "group-writable": File.SetUnixFileMode(directory, (UnixFileMode)Convert.ToInt32("770", 8)); break;
            case "symlink": directory = state.Path + "-link"; Directory.CreateSymbolicLink(directory, state.Path); break;
        }

        var (exit, _, stderr) = state.Cli($"rollback --netns {ns.Name}", directory);
        Assert.True(exit == 2, $"rollback exited {exit}: {stderr}");
        Assert.Contains(directory, stderr);
        Assert.Contains("nothing was changed", stderr);
        Assert.Equal(applied, ns.Nft("list ruleset"));

        (exit, _, stderr) = state.Cli($"apply {Before} --netns {ns.Name} --confirm-within 30s", directory);
        Assert.True(exit == 2, $"apply --confirm-within exited {exit}: {stderr}");
        Assert.Equal(applied, ns.Nft("list ruleset"));
        Assert.Equal(2, state.Cli($"confirm --netns {ns.Name}", directory).ExitCode);

        // A plain apply takes the state's lock too (a pending confirmation must be seen): refused, nothing changed.
        (exit, _, stderr) = state.Cli($"apply {Before} --netns {ns.Name}", directory);
        Assert.True(exit == 2 && stderr.Contains("nothing was changed"), $"apply exited {exit}: {stderr}");
        Assert.Equal(applied, ns.Nft("list ruleset"));
    }

    [Theory]
    [InlineData("symlink")]
    [InlineData("owned-by-nobody")]
    [InlineData("group-writable")]
    [InlineData("world-writable")]
    public void AForeignPendingFileIsRefused(string kind)
    {
        using var ns = TestNamespace.Create();
        using var state = new StateDir();
        state.Ok($"apply {Before} --netns {ns.Name}");
        string applied = ns.Nft("list ruleset");
        string pending = state.Stem + ".pending";
        string record = $"0123456789abcdef0123456789abcdef\n{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds()}\n";
        string target = state.Outside("pending", record);
        switch (kind)
        {
            case "symlink": File.CreateSymbolicLink(pending, target); break;
            case "owned-by-nobody": state.Plant(pending, record, "600"); TestNamespace.Run("chown", $"{Nobody} {pending}"); break;
            case "group-writable": state.Plant(pending, record, "620"); break;
            case "world-writable": state.Plant(pending, record, "666"); break;
        }

        var (exit, _, stderr) = state.Cli($"confirm --netns {ns.Name}");
        Assert.True(exit == 2, $"confirm exited {exit}: {stderr}");
        Assert.Contains(pending, stderr);
        Assert.True(File.Exists(pending) || new FileInfo(pending).LinkTarget is not null, "the foreign file was removed");

        (exit, _, stderr) = state.Cli($"apply {After} --netns {ns.Name} --confirm-within 30s");
        Assert.True(exit == 2, $"apply --confirm-within exited {exit}: {stderr}");
        Assert.Equal(applied, ns.Nft("list ruleset"));
        Assert.Equal(record, File.ReadAllText(target));
    }

    [Theory]
    [InlineData(".snapshot")]
    [InlineData(".lock")]
    public void ASymlinkInPlaceOfAStateFileIsRefusedNeverFollowed(string suffix)
    {
        using var ns = TestNamespace.Create();
        using var state = new StateDir();
        state.Ok($"apply {Before} --netns {ns.Name}");
        state.Ok($"apply {After} --netns {ns.Name}");
        string applied = ns.Nft("list ruleset");
        string file = state.Stem + suffix;
        // The snapshot's link points at a valid copy of itself; the lock's at a file that does not exist yet.
        string target = suffix == ".snapshot" ? state.Outside("snapshot", "") : state.Path + "-created-by-root";
        if (suffix == ".snapshot")
            File.Move(file, target, overwrite: true);
        File.Delete(file);
        File.CreateSymbolicLink(file, target);

        var (exit, _, stderr) = state.Cli($"rollback --netns {ns.Name}");
        Assert.True(exit == 2, $"rollback exited {exit}: {stderr}");
        Assert.Contains("symbolic link", stderr);
        Assert.Equal(applied, ns.Nft("list ruleset"));
        Assert.Equal(suffix == ".snapshot", File.Exists(target));
    }

    [Fact]
    public void TheLogIsNeverWrittenThroughASymlink()
    {
        using var ns = TestNamespace.Create();
        using var state = new StateDir();
        state.Ok($"apply {Before} --netns {ns.Name}");
        string before = ns.Nft("list ruleset");
        state.Ok($"apply {After} --netns {ns.Name}");
        string victim = state.Outside("victim", "untouched\n");
        File.CreateSymbolicLink(state.Stem + ".log", victim);

        Assert.Contains("restored", state.Ok($"rollback --netns {ns.Name}")); // the log is a courtesy: rollback still works
        Assert.Equal(before, ns.Nft("list ruleset"));
        Assert.Equal("untouched\n", File.ReadAllText(victim));
    }

    /// <summary>
    /// Links planted where the temporary files of the atomic writes will be. The CLI runs in a new PID namespace,
    /// so its pid, and so the temporary names (<c>.snapshot.tmp1</c>, <c>.pending.tmp1</c>), are known in advance.
    /// </summary>
    [Fact]
    public void TemporaryFilesPlantedAsSymlinksAreNeverWrittenThrough()
    {
        using var ns = TestNamespace.Create();
        using var state = new StateDir();
        state.Ok($"apply {Before} --netns {ns.Name}");
        string before = ns.Nft("list ruleset");
        string snapshotVictim = state.Outside("victim1", "untouched\n"), pendingVictim = state.Outside("victim2", "untouched\n");
        File.CreateSymbolicLink(state.Stem + ".snapshot.tmp1", snapshotVictim);
        File.CreateSymbolicLink(state.Stem + ".pending.tmp1", pendingVictim);

        // pid 1 exits after apply and takes its namespace's waiter with it; rollback below stands in for it.
        var (exit, stdout, stderr) = TestNamespace.TryRun("unshare",
            $"--pid --fork --mount-proc env NETLINKFENCE_STATE_DIR={state.Path} dotnet {CliRunner.CliPath} apply {After} --netns {ns.Name} --confirm-within 60s");
        Assert.True(exit == 0, $"apply exited {exit}: {stdout}{stderr}");
        Assert.Contains("8443", ns.Nft("list ruleset"));
        Assert.Equal("untouched\n", File.ReadAllText(snapshotVictim));
        Assert.Equal("untouched\n", File.ReadAllText(pendingVictim));
        Assert.Empty(Directory.GetFiles(state.Path, "*.tmp*"));

        state.Ok($"rollback --netns {ns.Name}"); // the snapshot written past the links is intact
        Assert.Equal(before, ns.Nft("list ruleset"));
    }

    [Fact]
    public void TheDirectoryAndEveryFileAreCreatedPrivateWhateverTheUmask()
    {
        using var ns = TestNamespace.Create();
        using var state = new StateDir(create: false);
        string UmaskZero(string arguments) =>
            TestNamespace.Run("sh", $"-c \"umask 0; exec env NETLINKFENCE_STATE_DIR={state.Path} dotnet {CliRunner.CliPath} {arguments}\"");
        UmaskZero($"apply {Before} --netns {ns.Name} --confirm-within 60s");
        Assert.Equal("700", Mode(state.Path));
        string stem = state.Stem;
        foreach (string suffix in new[] { ".snapshot", ".pending", ".lock" })
            Assert.Equal("600", Mode(stem + suffix));
        UmaskZero($"rollback --netns {ns.Name}");
        Assert.Equal("600", Mode(stem + ".log"));
        // Let the waiter see the rollback and log its last line, so it is not writing there while Dispose removes the directory.
        var clock = Stopwatch.StartNew();
        while (!File.ReadAllText(stem + ".log").Contains("nothing to do") && clock.Elapsed < TimeSpan.FromSeconds(20))
            Thread.Sleep(100);

        static string Mode(string path) => Convert.ToString((int)File.GetUnixFileMode(path), 8);
    }

    /// <summary>A minimal root (a FROM-scratch container) has no /run: the state directory's parents are made as mkdir -p would.</summary>
    [Fact]
    public void AMissingParentOfTheStateDirectoryIsCreated()
    {
        using var ns = TestNamespace.Create();
        using var state = new StateDir(create: false);
        string nested = System.IO.Path.Combine(state.Path, "run", "netlinkfence");
        var (exit, stdout, stderr) = state.Cli($"apply {Before} --netns {ns.Name}", nested);
        Assert.True(exit == 0, $"apply exited {exit}: {stdout}{stderr}");
        Assert.Contains("443", ns.Nft("list ruleset"));
        Assert.Equal("700", Convert.ToString((int)File.GetUnixFileMode(nested), 8));
    }

    [Fact]
    public void RollbackRefusesACorruptOrTruncatedSnapshotAndLeavesTheLiveTable()
    {
        using var ns = TestNamespace.Create();
        using var state = new StateDir();
        state.Ok($"apply {Before} --netns {ns.Name}");
        string before = ns.Nft("list ruleset");
        state.Ok($"apply {After} --netns {ns.Name}");
        string applied = ns.Nft("list ruleset");
        string snapshot = state.Stem + ".snapshot";
        byte[] good = File.ReadAllBytes(snapshot);

        var damaged = new List<(string What, byte[] Bytes)>();
        // Byte 9 is where the previous format kept "did the table exist"; 0..7 magic and version, 8..11 length,
        // 12..43 checksum, 44.. payload (44: family, 45: kind).
        foreach (int at in new[] { 0, 7, 8, 9, 12, 43, 44, 45, 46, good.Length / 2, good.Length - 1 })
        {
            byte[] copy = (byte[])good.Clone();
            copy[at] ^= 0x01;
            damaged.Add(($"byte {at} flipped", copy));
        }
        foreach (int length in new[] { 0, 5, 44, good.Length - 1 })
            damaged.Add(($"cut to {length} bytes", good[..length]));

        foreach (var (what, bytes) in damaged)
        {
            File.WriteAllBytes(snapshot, bytes);
            var (exit, _, stderr) = state.Cli($"rollback --netns {ns.Name}");
            Assert.True(exit == 2, $"{what}: rollback exited {exit}: {stderr}");
            Assert.Contains(snapshot, stderr);
            Assert.Contains("left as it is", stderr);
            Assert.DoesNotContain("   at ", stderr); // a message, not a stack trace
            Assert.Equal(applied, ns.Nft("list ruleset"));
        }

        File.WriteAllBytes(snapshot, good);
        state.Ok($"rollback --netns {ns.Name}");
        Assert.Equal(before, ns.Nft("list ruleset"));
    }

    [Fact]
    public void TheWaiterLeavesTheLiveTableWhenTheSnapshotIsCorrupt()
    {
        using var ns = TestNamespace.Create();
        using var state = new StateDir();
        state.Ok($"apply {Before} --netns {ns.Name}");
        state.Ok($"apply {After} --netns {ns.Name} --confirm-within 3s");
        string applied = ns.Nft("list ruleset");
        string snapshot = state.Stem + ".snapshot", log = state.Stem + ".log";
        byte[] bytes = File.ReadAllBytes(snapshot);
        bytes[9] ^= 0x01; // where the previous format said whether the table existed
        File.WriteAllBytes(snapshot, bytes);

        var clock = Stopwatch.StartNew();
        while (!(File.Exists(log) && File.ReadAllText(log).Contains("rollback FAILED")) && clock.Elapsed < TimeSpan.FromSeconds(30))
            Thread.Sleep(100);
        string written = File.Exists(log) ? File.ReadAllText(log) : "(no log)";
        Assert.Contains("rollback FAILED, the live table was left as it is", written);
        Assert.Contains(snapshot, written);
        Assert.Equal(applied, ns.Nft("list ruleset"));
        Assert.True(File.Exists(snapshot));
    }

    /// <summary>
    /// The state directory removed under a waiting waiter (a tmpfs emptied; in ci75, a test run's private directory
    /// removed while a waiter of a late test still polled): the waiter ends without making the directory again, and,
    /// with the saved table gone, leaves the live table as it is.
    /// </summary>
    [Fact]
    public void AWaiterWhoseStateDirectoryIsRemovedEndsWithoutMakingItAgain()
    {
        using var ns = TestNamespace.Create();
        using var state = new StateDir();
        state.Ok($"apply {Before} --netns {ns.Name}");
        state.Ok($"apply {After} --netns {ns.Name} --confirm-within 120s");
        string applied = ns.Nft("list ruleset");
        int waiter = WaiterProcess.WaitFor(ns);

        TestRunCleanup.Delete(state.Path);
        Assert.True(WaiterProcess.Ended(waiter, 30), "the waiter should end once its state directory is gone");
        Assert.False(Directory.Exists(state.Path), $"the waiter made {state.Path} again: {string.Join(", ", Directory.Exists(state.Path) ? Directory.GetFiles(state.Path) : [])}");
        Assert.Equal(applied, ns.Nft("list ruleset"));
    }

    /// <summary>A state directory of the test's own (root, 0700) and the CLI run against it.</summary>
    private sealed class StateDir : IDisposable
    {
        public StateDir(bool create = true)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"nlf-state-{Guid.NewGuid():N}");
            if (create)
                Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        public string Path { get; }

        /// <summary>The state files' common prefix (found from the saved snapshot, whatever the naming scheme).</summary>
        public string Stem
        {
            get
            {
                string snapshot = Assert.Single(Directory.GetFiles(Path, "*.snapshot"));
                return snapshot[..^".snapshot".Length];
            }
        }

        public (int ExitCode, string Stdout, string Stderr) Cli(string arguments, string? directory = null) =>
            TestNamespace.TryRun("env", $"NETLINKFENCE_STATE_DIR={directory ?? Path} dotnet {CliRunner.CliPath} {arguments}");

        public string Ok(string arguments)
        {
            var (exit, stdout, stderr) = Cli(arguments);
            Assert.True(exit == 0, $"netlinkfence {arguments} exited {exit}: {stdout}{stderr}");
            return stdout;
        }

        /// <summary>A file outside the state directory (what a planted link points at).</summary>
        public string Outside(string name, string text)
        {
            string file = Path + "-" + name;
            File.WriteAllText(file, text);
            return file;
        }

        public void Plant(string file, string text, string octalMode)
        {
            File.WriteAllText(file, text);
            File.SetUnixFileMode(file, (UnixFileMode)Convert.ToInt32(octalMode, 8));
        }

        public void Dispose()
        {
            foreach (string entry in Directory.GetFileSystemEntries(System.IO.Path.GetDirectoryName(Path)!, System.IO.Path.GetFileName(Path) + "*"))
                TestNamespace.TryRun("rm", $"-rf {entry}");
        }
    }
}
