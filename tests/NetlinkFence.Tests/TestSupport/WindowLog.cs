namespace NetlinkFence.Tests.TestSupport;

/// <summary>
/// The window log lines (state directory, <c>netns-DEV-INO.TABLE.windows</c>) of one test namespace. The file is keyed
/// on the namespace's inode, which the kernel re-uses once a namespace is gone, so it may also hold an earlier test's
/// lines; each line names its namespace, and only this one's are returned ("" before the first).
/// </summary>
internal static class WindowLog
{
    public static string Of(string namespaceName)
    {
        string marker = $" namespace {namespaceName}: ";
        return string.Concat(Directory.GetFiles(Environment.GetEnvironmentVariable("NETLINKFENCE_STATE_DIR")!, "*.windows")
            .SelectMany(File.ReadLines).Where(line => line.Contains(marker, StringComparison.Ordinal)).Select(line => line + "\n"));
    }
}
