namespace NetlinkFence.Cli;

/// <summary>
/// The state directory or one of its files cannot be trusted or read (wrong owner or mode, a symbolic link, a
/// corrupt snapshot): the message says which path, what is wrong and what to do. Verbs stop without touching
/// the ruleset (exit 2); the detached waiter logs it and leaves the live table as it is.
/// </summary>
internal sealed class StateFileException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The state directory does not exist, and the caller asked not to create it (the rollback waiter).</summary>
    public bool DirectoryGone { get; init; }
}
