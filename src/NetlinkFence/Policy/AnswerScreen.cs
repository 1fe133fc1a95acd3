using System.Net;

namespace NetlinkFence.Policy;

/// <summary>
/// Addresses a DNS answer may not turn into an allowed destination: this host (unspecified, loopback), the link
/// (link-local, where the cloud metadata service answers), multicast, reserved space and the other cloud metadata
/// endpoints (<see cref="CloudMetadata"/>). No remote service a name
/// stands for lives there; an answer holding one is a misconfigured or poisoned resolver, or DNS rebinding aimed at
/// the metadata credentials or the host's own services. A pin or a literal destination is the operator's word and is
/// not screened (lint warns about the metadata address there).
/// </summary>
internal static class AnswerScreen
{
    private static readonly (IPNetwork Network, string What)[] Refused =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "'this network' (unspecified)"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local, where the cloud metadata service answers"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved (and broadcast)"),
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
    ];

    /// <summary>Why <paramref name="address"/> (IPv4 or IPv6; v4-mapped is judged as IPv4) is never taken from DNS; null when it may be.</summary>
    public static string? WhyRefused(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        foreach (var (network, what) in Refused)
        {
            if (network.BaseAddress.AddressFamily == address.AddressFamily && network.Contains(address))
                return what;
        }
        return CloudMetadata.What(address);
    }

    /// <summary>The items whose address a name may open and those whose address it may not, each in the given order.</summary>
    public static (List<T> Usable, List<T> Refused) Split<T>(IEnumerable<T> items, Func<T, IPAddress> address)
    {
        var usable = new List<T>();
        var refused = new List<T>();
        foreach (var item in items)
            (WhyRefused(address(item)) is null ? usable : refused).Add(item);
        return (usable, refused);
    }

    /// <summary>One line for a message: <c>169.254.169.254 (link-local, ...)</c>, each refused address with why.</summary>
    public static string Describe(IEnumerable<IPAddress> refused) =>
        string.Join(", ", refused.Select(a => $"{a} ({WhyRefused(a)})"));

    /// <summary>What to do, for the messages that name refused answers.</summary>
    public const string Fix = "a name never opens these; if one is really meant, pin the name under 'hosts:' or write the address as a destination";
}
