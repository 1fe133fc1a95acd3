// Kernel UAPI constants from <linux/sock_diag.h> and <linux/inet_diag.h>: only what the lookup of a denied packet's
// sending socket needs. Member names keep the C spelling after the prefix named by [UapiPrefix].

namespace NetlinkFence.Interop.Uapi;

/// <summary>Values of <c>SOCK_DIAG_*</c> from <c>&lt;linux/sock_diag.h&gt;</c>.</summary>
[UapiPrefix("SOCK_DIAG_", "linux/sock_diag.h")]
public enum SockDiagMessageType : ushort
{
    /// <summary><c>SOCK_DIAG_BY_FAMILY</c>: a request (<c>inet_diag_req_v2</c>) and its reply (<c>inet_diag_msg</c>).</summary>
    BY_FAMILY = 20,
}

/// <summary>Values of <c>INET_DIAG_*</c> (attributes of an <c>inet_diag_msg</c> reply) from <c>&lt;linux/inet_diag.h&gt;</c>.</summary>
[UapiPrefix("INET_DIAG_", "linux/inet_diag.h")]
public enum InetDiagAttribute : ushort
{
    /// <summary><c>INET_DIAG_CGROUP_ID</c>: the socket's cgroup v2 id (u64; sent unasked since Linux 5.7).</summary>
    CGROUP_ID = 21,
}
