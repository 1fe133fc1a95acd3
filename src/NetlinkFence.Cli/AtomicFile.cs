namespace NetlinkFence.Cli;

/// <summary>Files the CLI writes for others to read: whole or not at all.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="text"/> to a hidden file beside <paramref name="path"/> and renames it over the path:
    /// a reader (an editor, node_exporter's textfile collector) sees the old file or the new one, never half of one.
    /// The hidden name (<c>.NAME.PID.tmp</c>) is one no <c>*.prom</c> or <c>*.yaml</c> glob picks up meanwhile.
    /// </summary>
    /// <param name="path">The file to replace.</param>
    /// <param name="text">Its new contents.</param>
    /// <param name="mode">The file's mode whatever the umask; null: as the umask makes it.</param>
    public static void Write(string path, string text, UnixFileMode? mode = null)
    {
        string full = Path.GetFullPath(path);
        string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllText(temporary, text);
            if (mode is { } exactly && !OperatingSystem.IsWindows())
                File.SetUnixFileMode(temporary, exactly);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary); // nothing left when the write or the rename failed
        }
    }
}
