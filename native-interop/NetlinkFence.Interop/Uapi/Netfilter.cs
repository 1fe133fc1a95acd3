// Kernel UAPI constants from <linux/netfilter.h>.
// Member names keep the C spelling after the prefix named by [UapiPrefix], so the
// constants test can rebuild each C name and compare the value with the installed header.

namespace NetlinkFence.Interop.Uapi;

/// <summary>Values of <c>NFPROTO_*</c> from <c>&lt;linux/netfilter.h&gt;</c>.</summary>
[UapiPrefix("NFPROTO_", "linux/netfilter.h")]
public enum NetfilterFamily : byte
{
    /// <summary><c>NFPROTO_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFPROTO_INET</c></summary>
    INET = 1,
    /// <summary><c>NFPROTO_IPV4</c></summary>
    IPV4 = 2,
    /// <summary><c>NFPROTO_ARP</c></summary>
    ARP = 3,
    /// <summary><c>NFPROTO_NETDEV</c></summary>
    NETDEV = 5,
    /// <summary><c>NFPROTO_BRIDGE</c></summary>
    BRIDGE = 7,
    /// <summary><c>NFPROTO_IPV6</c></summary>
    IPV6 = 10,
}

/// <summary>Values of <c>NF_INET_*</c> from <c>&lt;linux/netfilter.h&gt;</c>.</summary>
[UapiPrefix("NF_INET_", "linux/netfilter.h")]
public enum NetfilterInetHook : uint
{
    /// <summary><c>NF_INET_PRE_ROUTING</c></summary>
    PRE_ROUTING = 0,
    /// <summary><c>NF_INET_LOCAL_IN</c></summary>
    LOCAL_IN = 1,
    /// <summary><c>NF_INET_FORWARD</c></summary>
    FORWARD = 2,
    /// <summary><c>NF_INET_LOCAL_OUT</c></summary>
    LOCAL_OUT = 3,
    /// <summary><c>NF_INET_POST_ROUTING</c></summary>
    POST_ROUTING = 4,
}

/// <summary>Values of <c>NF_*</c> from <c>&lt;linux/netfilter.h&gt;</c>.</summary>
[UapiPrefix("NF_", "linux/netfilter.h")]
public enum NetfilterVerdict : int
{
    /// <summary><c>NF_DROP</c></summary>
    DROP = 0,
    /// <summary><c>NF_ACCEPT</c></summary>
    ACCEPT = 1,
    /// <summary><c>NF_STOLEN</c></summary>
    STOLEN = 2,
    /// <summary><c>NF_QUEUE</c></summary>
    QUEUE = 3,
    /// <summary><c>NF_REPEAT</c></summary>
    REPEAT = 4,
    /// <summary><c>NF_STOP</c></summary>
    STOP = 5,
}
