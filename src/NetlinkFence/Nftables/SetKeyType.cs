namespace NetlinkFence.Nftables;

/// <summary>
/// nft's data types for set keys (nft's <c>enum datatypes</c>, which the kernel stores opaquely in
/// <c>NFTA_SET_KEY_TYPE</c> so <c>nft list</c> can print elements). Concatenations pack them 6 bits each.
/// </summary>
public enum SetKeyType : uint
{
    /// <summary><c>nf_proto</c> (<c>meta nfproto</c>: ipv4 = 2, ipv6 = 10), 1 byte, host order.</summary>
    NfProto = 2,
    /// <summary><c>ipv4_addr</c>, 4 bytes, network order.</summary>
    Ipv4Address = 7,
    /// <summary><c>ipv6_addr</c>, 16 bytes, network order.</summary>
    Ipv6Address = 8,
    /// <summary><c>inet_proto</c>, 1 byte.</summary>
    InetProto = 12,
    /// <summary><c>inet_service</c> (a port), 2 bytes, network order.</summary>
    InetService = 13,
    /// <summary><c>mark</c>, 4 bytes, host order.</summary>
    Mark = 19,
    /// <summary>
    /// <c>uid</c> (<c>meta skuid</c>), 4 bytes; network order as an interval concatenation stores it (the rule converts
    /// the loaded value with <c>byteorder hton</c>, as nft does).
    /// </summary>
    Uid = 24,
    /// <summary>
    /// <c>cgroupsv2</c> (<c>socket cgroupv2</c>: a cgroup's id, the inode number of its directory), 8 bytes; network order
    /// as an interval concatenation stores it (see <see cref="Uid"/>).
    /// </summary>
    CgroupV2 = 46,
}

/// <summary>Sizes and byte orders of <see cref="SetKeyType"/>.</summary>
public static class SetKeyTypes
{
    /// <summary>nft's <c>TYPE_BITS</c>: each concatenated type takes 6 bits of the key type.</summary>
    internal const int TypeBits = 6;

    /// <summary>Bytes of one value of <paramref name="type"/>.</summary>
    public static int Size(this SetKeyType type) => type switch
    {
        SetKeyType.Ipv4Address => 4,
        SetKeyType.Ipv6Address => 16,
        SetKeyType.InetProto or SetKeyType.NfProto => 1,
        SetKeyType.InetService => 2,
        SetKeyType.Mark or SetKeyType.Uid => 4,
        SetKeyType.CgroupV2 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown set key type"),
    };

    /// <summary>True when values are stored in network byte order.</summary>
    public static bool IsBigEndian(this SetKeyType type) => type is not (SetKeyType.Mark or SetKeyType.NfProto);

    /// <summary>nft's name of the type, e.g. <c>ipv4_addr</c>.</summary>
    public static string ToNftName(this SetKeyType type) => type switch
    {
        SetKeyType.Ipv4Address => "ipv4_addr",
        SetKeyType.Ipv6Address => "ipv6_addr",
        SetKeyType.InetProto => "inet_proto",
        SetKeyType.NfProto => "nf_proto",
        SetKeyType.InetService => "inet_service",
        SetKeyType.Mark => "mark",
        SetKeyType.Uid => "uid",
        SetKeyType.CgroupV2 => "cgroupsv2",
        _ => $"type-{(uint)type}",
    };
}
