namespace NetlinkFence.Tests.TestSupport;

/// <summary>
/// One directory of scratch files (policies written for the CLI to read) for this test process, removed when the
/// run ends (<see cref="TestRunCleanup"/>): a run leaves nothing behind in /tmp. World-readable, as the files are: some tests run the CLI as
/// another user.
/// </summary>
internal static class TestScratch
{
    private static readonly Lazy<string> Root = new(Create);

    /// <summary>A fresh path in the scratch directory: <paramref name="prefix"/>, a unique part, <paramref name="extension"/>.</summary>
    public static string PathFor(string prefix, string extension) => Path.Combine(Root.Value, $"{prefix}-{Guid.NewGuid():N}{extension}");

    private static string Create()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nlf-test-scratch-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        TestRunCleanup.DeleteAtEnd(path);
        return path;
    }
}
