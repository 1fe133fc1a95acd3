namespace NetlinkFence.Interop;

/// <summary>A path that had to name a regular file names a directory, FIFO, device or socket (the caller's input, no errno).</summary>
public sealed class NotARegularFileException : NetlinkFenceException
{
    /// <summary>Creates the exception for <paramref name="path"/>, which is <paramref name="kind"/> (e.g. <c>a FIFO</c>).</summary>
    public NotARegularFileException(string path, string kind) : base($"{path} is {kind}, not a regular file")
    {
        Path = path;
        Kind = kind;
    }

    /// <summary>The path as given.</summary>
    public string Path { get; }

    /// <summary>What it is instead, e.g. <c>a character device</c>.</summary>
    public string Kind { get; }
}
