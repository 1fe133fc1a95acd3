// Kernel UAPI constants from <linux/rtnetlink.h> and <linux/if_link.h>: only what the interface-name lookup needs.
// Member names keep the C spelling after the prefix named by [UapiPrefix].

namespace NetlinkFence.Interop.Uapi;

/// <summary>Values of <c>RTM_*</c> (link messages) from <c>&lt;linux/rtnetlink.h&gt;</c>.</summary>
[UapiPrefix("RTM_", "linux/rtnetlink.h")]
public enum RtnetlinkMessageType : ushort
{
    /// <summary><c>RTM_NEWLINK</c>: a link's description (the answer to RTM_GETLINK).</summary>
    NEWLINK = 16,
    /// <summary><c>RTM_GETLINK</c>: asks for one link (by <c>ifi_index</c>) or dumps all.</summary>
    GETLINK = 18,
}

/// <summary>Values of <c>IFLA_*</c> from <c>&lt;linux/if_link.h&gt;</c>.</summary>
[UapiPrefix("IFLA_", "linux/if_link.h")]
public enum InterfaceLinkAttribute : ushort
{
    /// <summary><c>IFLA_IFNAME</c>: the interface name, NUL-terminated.</summary>
    IFNAME = 3,
}
