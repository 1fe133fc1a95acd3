// Kernel UAPI constants from <linux/netlink.h>.
// Member names keep the C spelling after the prefix named by [UapiPrefix], so the
// constants test can rebuild each C name and compare the value with the installed header.

namespace NetlinkFence.Interop.Uapi;

/// <summary>Values of <c>NLMSG_*</c> from <c>&lt;linux/netlink.h&gt;</c>.</summary>
[UapiPrefix("NLMSG_", "linux/netlink.h")]
public enum NetlinkMessageType : ushort
{
    /// <summary><c>NLMSG_NOOP</c></summary>
    NOOP = 1,
    /// <summary><c>NLMSG_ERROR</c></summary>
    ERROR = 2,
    /// <summary><c>NLMSG_DONE</c></summary>
    DONE = 3,
    /// <summary><c>NLMSG_OVERRUN</c></summary>
    OVERRUN = 4,
    /// <summary><c>NLMSG_MIN_TYPE</c></summary>
    MIN_TYPE = 16,
}

/// <summary>Values of <c>NLM_F_*</c> from <c>&lt;linux/netlink.h&gt;</c>.</summary>
[UapiPrefix("NLM_F_", "linux/netlink.h")]
[Flags]
public enum NetlinkMessageFlags : ushort
{
    /// <summary><c>NLM_F_REQUEST</c></summary>
    REQUEST = 0x1,
    /// <summary><c>NLM_F_MULTI</c></summary>
    MULTI = 0x2,
    /// <summary><c>NLM_F_ACK</c></summary>
    ACK = 0x4,
    /// <summary><c>NLM_F_ECHO</c></summary>
    ECHO = 0x8,
    /// <summary><c>NLM_F_DUMP_INTR</c></summary>
    DUMP_INTR = 0x10,
    /// <summary><c>NLM_F_DUMP_FILTERED</c></summary>
    DUMP_FILTERED = 0x20,
    /// <summary><c>NLM_F_ROOT</c></summary>
    ROOT = 0x100,
    /// <summary><c>NLM_F_MATCH</c></summary>
    MATCH = 0x200,
    /// <summary><c>NLM_F_ATOMIC</c></summary>
    ATOMIC = 0x400,
    /// <summary><c>NLM_F_DUMP</c></summary>
    DUMP = 0x300,
    /// <summary><c>NLM_F_REPLACE</c></summary>
    REPLACE = 0x100,
    /// <summary><c>NLM_F_EXCL</c></summary>
    EXCL = 0x200,
    /// <summary><c>NLM_F_CREATE</c></summary>
    CREATE = 0x400,
    /// <summary><c>NLM_F_APPEND</c></summary>
    APPEND = 0x800,
    /// <summary><c>NLM_F_NONREC</c></summary>
    NONREC = 0x100,
    /// <summary><c>NLM_F_CAPPED</c></summary>
    CAPPED = 0x100,
    /// <summary><c>NLM_F_ACK_TLVS</c></summary>
    ACK_TLVS = 0x200,
}

/// <summary>Values of <c>NLA_*</c> from <c>&lt;linux/netlink.h&gt;</c>.</summary>
[UapiPrefix("NLA_", "linux/netlink.h")]
[Flags]
public enum NetlinkAttributeFlags : ushort
{
    /// <summary><c>NLA_F_NESTED</c></summary>
    F_NESTED = 0x8000,
    /// <summary><c>NLA_F_NET_BYTEORDER</c></summary>
    F_NET_BYTEORDER = 0x4000,
}

/// <summary>Values of <c>NLMSGERR_ATTR_*</c> from <c>&lt;linux/netlink.h&gt;</c>.</summary>
[UapiPrefix("NLMSGERR_ATTR_", "linux/netlink.h")]
public enum NetlinkErrorAttribute : ushort
{
    /// <summary><c>NLMSGERR_ATTR_UNUSED</c></summary>
    UNUSED = 0,
    /// <summary><c>NLMSGERR_ATTR_MSG</c></summary>
    MSG = 1,
    /// <summary><c>NLMSGERR_ATTR_OFFS</c></summary>
    OFFS = 2,
    /// <summary><c>NLMSGERR_ATTR_COOKIE</c></summary>
    COOKIE = 3,
    /// <summary><c>NLMSGERR_ATTR_POLICY</c></summary>
    POLICY = 4,
    /// <summary><c>NLMSGERR_ATTR_MISS_TYPE</c></summary>
    MISS_TYPE = 5,
    /// <summary><c>NLMSGERR_ATTR_MISS_NEST</c></summary>
    MISS_NEST = 6,
}

/// <summary>Values of <c>NETLINK_*</c> from <c>&lt;linux/netlink.h&gt;</c>.</summary>
[UapiPrefix("NETLINK_", "linux/netlink.h")]
public enum NetlinkSocketOption : int
{
    /// <summary><c>NETLINK_ADD_MEMBERSHIP</c></summary>
    ADD_MEMBERSHIP = 1,
    /// <summary><c>NETLINK_DROP_MEMBERSHIP</c></summary>
    DROP_MEMBERSHIP = 2,
    /// <summary><c>NETLINK_PKTINFO</c></summary>
    PKTINFO = 3,
    /// <summary><c>NETLINK_BROADCAST_ERROR</c></summary>
    BROADCAST_ERROR = 4,
    /// <summary><c>NETLINK_NO_ENOBUFS</c></summary>
    NO_ENOBUFS = 5,
    /// <summary><c>NETLINK_LISTEN_ALL_NSID</c></summary>
    LISTEN_ALL_NSID = 8,
    /// <summary><c>NETLINK_LIST_MEMBERSHIPS</c></summary>
    LIST_MEMBERSHIPS = 9,
    /// <summary><c>NETLINK_CAP_ACK</c></summary>
    CAP_ACK = 10,
    /// <summary><c>NETLINK_EXT_ACK</c></summary>
    EXT_ACK = 11,
    /// <summary><c>NETLINK_GET_STRICT_CHK</c></summary>
    GET_STRICT_CHK = 12,
}

/// <summary>Values of <c>NETLINK_*</c> from <c>&lt;linux/netlink.h&gt;</c>.</summary>
[UapiPrefix("NETLINK_", "linux/netlink.h")]
public enum NetlinkProtocol : int
{
    /// <summary><c>NETLINK_ROUTE</c></summary>
    ROUTE = 0,
    /// <summary><c>NETLINK_SOCK_DIAG</c>: socket monitoring (inet_diag), e.g. which cgroup a socket belongs to.</summary>
    SOCK_DIAG = 4,
    /// <summary><c>NETLINK_NETFILTER</c></summary>
    NETFILTER = 12,
}
