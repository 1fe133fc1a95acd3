namespace NetlinkFence.Logging.Syslog;

/// <summary>
/// The syslog-over-TLS forwarder cannot work as configured: a CA or client-certificate file that cannot be read
/// (the message names the path and the errno), or a collector whose certificate is refused (and why).
/// </summary>
public sealed class SyslogTlsException : NetlinkFenceException
{
    /// <summary>Creates the exception; <paramref name="errno"/> when a system call gave one.</summary>
    public SyslogTlsException(string message, int? errno = null, Exception? innerException = null)
        : base(message, errno, innerException) { }
}
