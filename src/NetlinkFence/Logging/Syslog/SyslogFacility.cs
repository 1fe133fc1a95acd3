namespace NetlinkFence.Logging.Syslog;

/// <summary>The RFC 5424 facilities a forwarder may use (the numeric code is the value).</summary>
public enum SyslogFacility
{
    /// <summary>Security/authorization messages (4).</summary>
    Auth = 4,
    /// <summary>Security/authorization messages, private (10): the default; collectors route it to restricted files.</summary>
    AuthPriv = 10,
    /// <summary>Local use 0 (16).</summary>
    Local0 = 16,
    /// <summary>Local use 1 (17).</summary>
    Local1 = 17,
    /// <summary>Local use 2 (18).</summary>
    Local2 = 18,
    /// <summary>Local use 3 (19).</summary>
    Local3 = 19,
    /// <summary>Local use 4 (20).</summary>
    Local4 = 20,
    /// <summary>Local use 5 (21).</summary>
    Local5 = 21,
    /// <summary>Local use 6 (22).</summary>
    Local6 = 22,
    /// <summary>Local use 7 (23).</summary>
    Local7 = 23,
}
