// Kernel UAPI constants from <linux/netfilter/nfnetlink.h>.
// Member names keep the C spelling after the prefix named by [UapiPrefix], so the
// constants test can rebuild each C name and compare the value with the installed header.

namespace NetlinkFence.Interop.Uapi;

/// <summary>Values of <c>NFNL_SUBSYS_*</c> from <c>&lt;linux/netfilter/nfnetlink.h&gt;</c>.</summary>
[UapiPrefix("NFNL_SUBSYS_", "linux/netfilter/nfnetlink.h")]
public enum NfnetlinkSubsystem : byte
{
    /// <summary><c>NFNL_SUBSYS_NONE</c></summary>
    NONE = 0,
    /// <summary><c>NFNL_SUBSYS_CTNETLINK</c></summary>
    CTNETLINK = 1,
    /// <summary><c>NFNL_SUBSYS_CTNETLINK_EXP</c></summary>
    CTNETLINK_EXP = 2,
    /// <summary><c>NFNL_SUBSYS_QUEUE</c></summary>
    QUEUE = 3,
    /// <summary><c>NFNL_SUBSYS_ULOG</c></summary>
    ULOG = 4,
    /// <summary><c>NFNL_SUBSYS_OSF</c></summary>
    OSF = 5,
    /// <summary><c>NFNL_SUBSYS_IPSET</c></summary>
    IPSET = 6,
    /// <summary><c>NFNL_SUBSYS_ACCT</c></summary>
    ACCT = 7,
    /// <summary><c>NFNL_SUBSYS_CTNETLINK_TIMEOUT</c></summary>
    CTNETLINK_TIMEOUT = 8,
    /// <summary><c>NFNL_SUBSYS_CTHELPER</c></summary>
    CTHELPER = 9,
    /// <summary><c>NFNL_SUBSYS_NFTABLES</c></summary>
    NFTABLES = 10,
    /// <summary><c>NFNL_SUBSYS_NFT_COMPAT</c></summary>
    NFT_COMPAT = 11,
    /// <summary><c>NFNL_SUBSYS_HOOK</c></summary>
    HOOK = 12,
}

/// <summary>Values of <c>NFNL_MSG_*</c> from <c>&lt;linux/netfilter/nfnetlink.h&gt;</c>.</summary>
[UapiPrefix("NFNL_MSG_", "linux/netfilter/nfnetlink.h")]
public enum NfnetlinkBatchMessage : ushort
{
    /// <summary><c>NFNL_MSG_BATCH_BEGIN</c></summary>
    BATCH_BEGIN = 16,
    /// <summary><c>NFNL_MSG_BATCH_END</c></summary>
    BATCH_END = 17,
}

/// <summary>Values of <c>NFNL_BATCH_*</c> from <c>&lt;linux/netfilter/nfnetlink.h&gt;</c>.</summary>
[UapiPrefix("NFNL_BATCH_", "linux/netfilter/nfnetlink.h")]
public enum NfnetlinkBatchAttribute : ushort
{
    /// <summary><c>NFNL_BATCH_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFNL_BATCH_GENID</c></summary>
    GENID = 1,
}

/// <summary>Values of <c>NFNETLINK_*</c> from <c>&lt;linux/netfilter/nfnetlink.h&gt;</c>.</summary>
[UapiPrefix("NFNETLINK_", "linux/netfilter/nfnetlink.h")]
public enum NfnetlinkVersion : byte
{
    /// <summary><c>NFNETLINK_V0</c></summary>
    V0 = 0,
}

/// <summary>Values of <c>NFNLGRP_*</c> from <c>&lt;linux/netfilter/nfnetlink.h&gt;</c>.</summary>
[UapiPrefix("NFNLGRP_", "linux/netfilter/nfnetlink.h")]
public enum NfnetlinkGroup : int
{
    /// <summary><c>NFNLGRP_NONE</c></summary>
    NONE = 0,
    /// <summary><c>NFNLGRP_NFTABLES</c></summary>
    NFTABLES = 7,
}
