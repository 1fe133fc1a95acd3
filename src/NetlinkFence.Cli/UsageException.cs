namespace NetlinkFence.Cli;

/// <summary>A command-line value is not what the option takes (a duration, a flow, an empty --netns): exit 2, the message says how to write it.</summary>
internal sealed class UsageException(string message) : Exception(message);
