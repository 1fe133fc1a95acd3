using System.Runtime.CompilerServices;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>
/// Keeps the suite's rollback state out of the host's <c>/run/netlinkfence</c>: before any test runs, the test
/// process (and so every CLI it starts, which inherits the environment) gets a private state directory, removed
/// when the run ends (<see cref="TestRunCleanup"/>). Tests that need a directory of their own (StateDirectoryTests) still set theirs.
/// </summary>
internal static class PrivateStateDirectory
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        if (Environment.GetEnvironmentVariable("NETLINKFENCE_STATE_DIR") is { Length: > 0 })
            return;
        string path = Path.Combine(Path.GetTempPath(), $"nlf-test-state-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Environment.SetEnvironmentVariable("NETLINKFENCE_STATE_DIR", path);
        TestRunCleanup.DeleteAtEnd(path);
    }
}
