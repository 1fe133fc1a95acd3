using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Nftables;

/// <summary>The address family of a table (<c>nft</c>'s <c>ip</c>, <c>ip6</c>, <c>inet</c>, ...).</summary>
public enum NftFamily : byte
{
    /// <summary><c>inet</c>: IPv4 and IPv6 in one table.</summary>
    Inet = NetfilterFamily.INET,
    /// <summary><c>ip</c>: IPv4.</summary>
    Ip = NetfilterFamily.IPV4,
    /// <summary><c>ip6</c>: IPv6.</summary>
    Ip6 = NetfilterFamily.IPV6,
    /// <summary><c>arp</c> (read back only).</summary>
    Arp = NetfilterFamily.ARP,
    /// <summary><c>bridge</c> (read back only).</summary>
    Bridge = NetfilterFamily.BRIDGE,
    /// <summary><c>netdev</c> (read back only).</summary>
    Netdev = NetfilterFamily.NETDEV,
}

/// <summary>nft keywords for <see cref="NftFamily"/>.</summary>
public static class NftFamilyNames
{
    /// <summary>The nft keyword for <paramref name="family"/>, e.g. <c>inet</c>.</summary>
    public static string ToNftName(this NftFamily family) => family switch
    {
        NftFamily.Inet => "inet",
        NftFamily.Ip => "ip",
        NftFamily.Ip6 => "ip6",
        NftFamily.Arp => "arp",
        NftFamily.Bridge => "bridge",
        NftFamily.Netdev => "netdev",
        _ => $"family-{(byte)family}",
    };
}
