namespace NetlinkFence.Cli;

/// <summary>The table a verb reads is not there (never applied, or removed): exit 1, like a table that differs.</summary>
internal sealed class MissingTableException(string message) : Exception(message);
