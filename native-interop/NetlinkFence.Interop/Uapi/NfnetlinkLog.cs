// Kernel UAPI constants from <linux/netfilter/nfnetlink_log.h>.
// Member names keep the C spelling after the prefix named by [UapiPrefix], so the
// constants test can rebuild each C name and compare the value with the installed header.

namespace NetlinkFence.Interop.Uapi;

/// <summary>Values of <c>NFULNL_MSG_*</c> from <c>&lt;linux/netfilter/nfnetlink_log.h&gt;</c>.</summary>
[UapiPrefix("NFULNL_MSG_", "linux/netfilter/nfnetlink_log.h")]
public enum NfulnlMessageType : byte
{
    /// <summary><c>NFULNL_MSG_PACKET</c></summary>
    PACKET = 0,
    /// <summary><c>NFULNL_MSG_CONFIG</c></summary>
    CONFIG = 1,
}

/// <summary>Values of <c>NFULA_*</c> from <c>&lt;linux/netfilter/nfnetlink_log.h&gt;</c>.</summary>
[UapiPrefix("NFULA_", "linux/netfilter/nfnetlink_log.h")]
public enum NfulaAttribute : ushort
{
    /// <summary><c>NFULA_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFULA_PACKET_HDR</c></summary>
    PACKET_HDR = 1,
    /// <summary><c>NFULA_MARK</c></summary>
    MARK = 2,
    /// <summary><c>NFULA_TIMESTAMP</c></summary>
    TIMESTAMP = 3,
    /// <summary><c>NFULA_IFINDEX_INDEV</c></summary>
    IFINDEX_INDEV = 4,
    /// <summary><c>NFULA_IFINDEX_OUTDEV</c></summary>
    IFINDEX_OUTDEV = 5,
    /// <summary><c>NFULA_IFINDEX_PHYSINDEV</c></summary>
    IFINDEX_PHYSINDEV = 6,
    /// <summary><c>NFULA_IFINDEX_PHYSOUTDEV</c></summary>
    IFINDEX_PHYSOUTDEV = 7,
    /// <summary><c>NFULA_HWADDR</c></summary>
    HWADDR = 8,
    /// <summary><c>NFULA_PAYLOAD</c></summary>
    PAYLOAD = 9,
    /// <summary><c>NFULA_PREFIX</c></summary>
    PREFIX = 10,
    /// <summary><c>NFULA_UID</c></summary>
    UID = 11,
    /// <summary><c>NFULA_SEQ</c></summary>
    SEQ = 12,
    /// <summary><c>NFULA_SEQ_GLOBAL</c></summary>
    SEQ_GLOBAL = 13,
    /// <summary><c>NFULA_GID</c></summary>
    GID = 14,
    /// <summary><c>NFULA_HWTYPE</c></summary>
    HWTYPE = 15,
    /// <summary><c>NFULA_HWHEADER</c></summary>
    HWHEADER = 16,
    /// <summary><c>NFULA_HWLEN</c></summary>
    HWLEN = 17,
    /// <summary><c>NFULA_CT</c></summary>
    CT = 18,
    /// <summary><c>NFULA_CT_INFO</c></summary>
    CT_INFO = 19,
    /// <summary><c>NFULA_VLAN</c></summary>
    VLAN = 20,
    /// <summary><c>NFULA_L2HDR</c></summary>
    L2HDR = 21,
}

/// <summary>Values of <c>NFULA_CFG_*</c> from <c>&lt;linux/netfilter/nfnetlink_log.h&gt;</c>.</summary>
[UapiPrefix("NFULA_CFG_", "linux/netfilter/nfnetlink_log.h")]
public enum NfulaConfigAttribute : ushort
{
    /// <summary><c>NFULA_CFG_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFULA_CFG_CMD</c></summary>
    CMD = 1,
    /// <summary><c>NFULA_CFG_MODE</c></summary>
    MODE = 2,
    /// <summary><c>NFULA_CFG_NLBUFSIZ</c></summary>
    NLBUFSIZ = 3,
    /// <summary><c>NFULA_CFG_TIMEOUT</c></summary>
    TIMEOUT = 4,
    /// <summary><c>NFULA_CFG_QTHRESH</c></summary>
    QTHRESH = 5,
    /// <summary><c>NFULA_CFG_FLAGS</c></summary>
    FLAGS = 6,
}

/// <summary>Values of <c>NFULNL_CFG_CMD_*</c> from <c>&lt;linux/netfilter/nfnetlink_log.h&gt;</c>.</summary>
[UapiPrefix("NFULNL_CFG_CMD_", "linux/netfilter/nfnetlink_log.h")]
public enum NfulnlConfigCommand : byte
{
    /// <summary><c>NFULNL_CFG_CMD_NONE</c></summary>
    NONE = 0,
    /// <summary><c>NFULNL_CFG_CMD_BIND</c></summary>
    BIND = 1,
    /// <summary><c>NFULNL_CFG_CMD_UNBIND</c></summary>
    UNBIND = 2,
    /// <summary><c>NFULNL_CFG_CMD_PF_BIND</c></summary>
    PF_BIND = 3,
    /// <summary><c>NFULNL_CFG_CMD_PF_UNBIND</c></summary>
    PF_UNBIND = 4,
}

/// <summary>Values of <c>NFULNL_COPY_*</c> from <c>&lt;linux/netfilter/nfnetlink_log.h&gt;</c>.</summary>
[UapiPrefix("NFULNL_COPY_", "linux/netfilter/nfnetlink_log.h")]
public enum NfulnlCopyMode : byte
{
    /// <summary><c>NFULNL_COPY_NONE</c></summary>
    NONE = 0,
    /// <summary><c>NFULNL_COPY_META</c></summary>
    META = 1,
    /// <summary><c>NFULNL_COPY_PACKET</c></summary>
    PACKET = 2,
}

/// <summary>Values of <c>NFULNL_CFG_F_*</c> (<c>NFULA_CFG_FLAGS</c>) from <c>&lt;linux/netfilter/nfnetlink_log.h&gt;</c>.</summary>
[UapiPrefix("NFULNL_CFG_F_", "linux/netfilter/nfnetlink_log.h")]
[Flags]
public enum NfulnlConfigFlags : ushort
{
    /// <summary><c>NFULNL_CFG_F_SEQ</c>: each packet carries the instance's own sequence number (NFULA_SEQ).</summary>
    SEQ = 0x0001,
    /// <summary><c>NFULNL_CFG_F_SEQ_GLOBAL</c>: each packet carries the namespace-wide sequence number (NFULA_SEQ_GLOBAL).</summary>
    SEQ_GLOBAL = 0x0002,
    /// <summary><c>NFULNL_CFG_F_CONNTRACK</c>: each packet carries its conntrack entry (NFULA_CT).</summary>
    CONNTRACK = 0x0004,
}
