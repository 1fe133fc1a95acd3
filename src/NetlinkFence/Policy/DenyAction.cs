namespace NetlinkFence.Policy;

/// <summary>What the compiled policy does with egress it does not allow (<c>egress.deny</c>), after logging it.</summary>
public enum DenyAction
{
    /// <summary>
    /// Drop it (the default): the sender hears nothing. A TCP connect waits for its timeout (about two minutes with
    /// Linux's defaults); a UDP send from this host fails with EPERM at once.
    /// </summary>
    Drop,

    /// <summary>
    /// Reject it with an ICMP (ICMPv6) administratively-prohibited error: a connect from this host fails at once,
    /// with EHOSTUNREACH over IPv4 and EACCES over IPv6 (there after the SYN's first retransmit, about 1 s), so an agent
    /// learns that the policy refused it instead of hanging.
    /// </summary>
    Reject,
}
