// Kernel UAPI constants from <linux/netfilter/nf_conntrack_common.h>.
// Member names keep the C spelling after the prefix named by [UapiPrefix], so the
// constants test can rebuild each C name and compare the value with the installed header.

namespace NetlinkFence.Interop.Uapi;

/// <summary>Values of <c>IP_CT_*</c> from <c>&lt;linux/netfilter/nf_conntrack_common.h&gt;</c>.</summary>
[UapiPrefix("IP_CT_", "linux/netfilter/nf_conntrack_common.h")]
public enum ConntrackInfo : int
{
    /// <summary><c>IP_CT_ESTABLISHED</c></summary>
    ESTABLISHED = 0,
    /// <summary><c>IP_CT_RELATED</c></summary>
    RELATED = 1,
    /// <summary><c>IP_CT_NEW</c></summary>
    NEW = 2,
    /// <summary><c>IP_CT_IS_REPLY</c></summary>
    IS_REPLY = 3,
    /// <summary><c>IP_CT_ESTABLISHED_REPLY</c></summary>
    ESTABLISHED_REPLY = 3,
    /// <summary><c>IP_CT_RELATED_REPLY</c></summary>
    RELATED_REPLY = 4,
}

/// <summary>Values of <c>NF_CT_STATE_*</c> from <c>&lt;linux/netfilter/nf_conntrack_common.h&gt;</c>.</summary>
[UapiPrefix("NF_CT_STATE_", "linux/netfilter/nf_conntrack_common.h")]
[Flags]
public enum ConntrackStateBit : uint
{
    /// <summary><c>NF_CT_STATE_INVALID_BIT</c></summary>
    INVALID_BIT = 0x1,
    /// <summary><c>NF_CT_STATE_UNTRACKED_BIT</c></summary>
    UNTRACKED_BIT = 0x40,
}
