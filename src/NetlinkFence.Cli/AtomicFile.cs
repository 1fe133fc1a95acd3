using System.Text;

namespace NetlinkFence.Cli;

/// <summary>Files the CLI writes for others to read: whole or not at all.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="text"/> to a hidden file beside <paramref name="path"/> and renames it over the path:
    /// a reader (an editor, node_exporter's textfile collector) sees the old file or the new one, never half of one.
    /// The hidden name (<c>.NAME.PID.tmp</c>) is one no <c>*.prom</c> or <c>*.yaml</c> glob picks up meanwhile.
    /// </summary>
    /// <remarks>
    /// Root writes this into directories other users may own (node_exporter's is the prometheus user's), whose names
    /// they can predict: the temporary file is created new (O_EXCL: a link planted under its name is never followed,
    /// it fails the write) after unlinking whatever has the name, and its mode is set on the open file, never by path.
    /// The rename replaces a link at <paramref name="path"/> itself, never its target.
    /// </remarks>
    /// <param name="path">The file to replace.</param>
    /// <param name="text">Its new contents.</param>
    /// <param name="mode">The file's mode whatever the umask; null: as the umask makes it.</param>
    public static void Write(string path, string text, UnixFileMode? mode = null)
    {
        string full = Path.GetFullPath(path);
        string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        File.Delete(temporary); // a leftover of a writer with this pid, or a planted link: the link goes, never its target
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(Encoding.UTF8.GetBytes(text));
                if (mode is { } exactly && !OperatingSystem.IsWindows())
                    File.SetUnixFileMode(stream.SafeFileHandle, exactly);
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary); // nothing left when the write or the rename failed
        }
    }
}
