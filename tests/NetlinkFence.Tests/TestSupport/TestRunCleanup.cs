namespace NetlinkFence.Tests.TestSupport;

/// <summary>
/// The test process's own directories in /tmp (scratch files, the private rollback state), deleted when the last test
/// has finished, before xUnit reports the run finished (<see cref="CleanupTestFramework"/>). Not at process exit
/// alone: vstest kills the test host 100 ms after the run ends (<c>VSTEST_TESTHOST_SHUTDOWN_TIMEOUT</c>), which cut
/// exit handlers short on a loaded machine and left both directories behind. Process exit stays as the fallback for
/// runners that never report the end of the run.
/// </summary>
internal static class TestRunCleanup
{
    private static readonly List<string> Directories = [];

    /// <summary>Deletes <paramref name="path"/> (recursively) when the run ends.</summary>
    public static void DeleteAtEnd(string path)
    {
        lock (Directories)
        {
            if (Directories.Count == 0)
                AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteAll();
            Directories.Add(path);
        }
    }

    /// <summary>Deletes every registered directory; those already gone are skipped.</summary>
    public static void DeleteAll()
    {
        string[] paths;
        lock (Directories)
        {
            paths = [.. Directories];
            Directories.Clear();
        }
        foreach (string path in paths)
            Delete(path);
    }

    /// <summary>
    /// Deletes <paramref name="path"/> recursively, trying again for a few seconds while a process a test started (a
    /// rollback waiter polls every 100 ms) makes a file in it between the removal of its files and of itself.
    /// </summary>
    public static void Delete(string path)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                Directory.Delete(path, recursive: true);
                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && attempt < 50)
            {
                Thread.Sleep(100);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return; // /tmp is cleaned by the system; the host-state check names what is left
            }
        }
    }
}
