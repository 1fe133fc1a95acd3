namespace NetlinkFence.Logging.Syslog;

/// <summary>
/// The collector ended the connection (EOF, reset, close_notify). Internal: the forwarder catches it, requeues what
/// may not have arrived and reconnects; it never reaches a caller.
/// </summary>
internal sealed class CollectorConnectionLostException(string message, Exception? innerException = null)
    : NetlinkFenceException(message, null, innerException);
