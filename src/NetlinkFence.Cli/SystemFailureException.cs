namespace NetlinkFence.Cli;

/// <summary>
/// The system did not let a verb do its work, through no fault of the input or of netlinkfence: e.g. the rollback
/// waiter could not be started or did not detach, or /proc belongs to another PID namespace. Exit 6.
/// </summary>
internal sealed class SystemFailureException(string message) : Exception(message);
