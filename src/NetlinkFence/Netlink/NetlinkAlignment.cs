namespace NetlinkFence.Netlink;

/// <summary>Netlink's 4-byte alignment rules and fixed header sizes.</summary>
internal static class NetlinkAlignment
{
    /// <summary><c>#define NLMSG_ALIGN(len) (((len)+NLMSG_ALIGNTO-1) &amp; ~(NLMSG_ALIGNTO-1))</c>, likewise NLA_ALIGN.</summary>
    public static int Align(int length) => (length + 3) & ~3;

    /// <summary><c>sizeof(struct nlmsghdr)</c>.</summary>
    public const int MessageHeaderSize = 16;

    /// <summary><c>sizeof(struct nfgenmsg)</c>.</summary>
    public const int NfgenHeaderSize = 4;

    /// <summary><c>sizeof(struct nlattr)</c>.</summary>
    public const int AttributeHeaderSize = 4;

    /// <summary>Attribute lengths are 16-bit (<c>nla_len</c>).</summary>
    public const int MaxAttributeLength = ushort.MaxValue;
}
