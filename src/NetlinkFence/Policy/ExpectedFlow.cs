using System.Net;
using System.Net.Sockets;

namespace NetlinkFence.Policy;

/// <summary>
/// A flow the self-test tries right after an apply (<c>selftest:</c> in the policy, or <c>--expect-allow</c>/<c>--expect-deny</c>):
/// written <c>HOST:PORT</c> (TCP), <c>tcp:HOST:PORT</c> or <c>udp:HOST:PORT</c>, with IPv6 in brackets (<c>[2001:db8::1]:443</c>).
/// </summary>
/// <param name="Protocol">TCP or UDP.</param>
/// <param name="Address">The destination address.</param>
/// <param name="Port">The destination port.</param>
public sealed record ExpectedFlow(ProtocolType Protocol, IPAddress Address, ushort Port)
{
    private const string HowToWrite = "write 203.0.113.50:443 (tcp), tcp:203.0.113.50:443, udp:192.168.1.10:53 or [2001:db8::50]:443";

    /// <summary>
    /// Parses <paramref name="text"/>; false when it is not a flow, or names no single host a probe could try
    /// (multicast, broadcast, unspecified). An IPv4-mapped IPv6 address (<c>[::ffff:203.0.113.50]:443</c>) is the
    /// IPv4 flow it stands for: that is what goes on the wire.
    /// </summary>
    public static bool TryParse(string text, out ExpectedFlow flow) => Problem(text, out flow) is null;

    /// <summary>Parses <paramref name="text"/> or throws <see cref="InvalidInputException"/> saying what is wrong and how to write a flow.</summary>
    public static ExpectedFlow Parse(string text) => Problem(text, out var flow) is { } problem
        ? throw new InvalidInputException($"{problem}; {HowToWrite}")
        : flow;

    /// <summary>Why <paramref name="text"/> is not a flow a probe can try (null when it is one, then in <paramref name="flow"/>).</summary>
    internal static string? Problem(string text, out ExpectedFlow flow)
    {
        ArgumentNullException.ThrowIfNull(text);
        flow = null!;
        var protocol = ProtocolType.Tcp;
        string rest = text.Trim();
        if (rest.StartsWith("tcp:", StringComparison.OrdinalIgnoreCase))
            rest = rest[4..];
        else if (rest.StartsWith("udp:", StringComparison.OrdinalIgnoreCase))
        {
            protocol = ProtocolType.Udp;
            rest = rest[4..];
        }
        int colon = rest.LastIndexOf(':');
        if (colon <= 0)
            return $"'{text}' is not a flow";
        string host = rest[..colon];
        bool bracketed = host.StartsWith('[') && host.EndsWith(']');
        if (bracketed)
            host = host[1..^1];
        if (!IPAddress.TryParse(host, out var address)
            || !ushort.TryParse(rest[(colon + 1)..], out ushort port) || port == 0)
            return $"'{text}' is not a flow";
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        // A probe connects to one host: these would fail in the kernel (or reach a local socket) after the commit.
        if (IsMulticast(address))
            return $"'{text}' is a multicast address, not a host a probe can connect to";
        if (address.Equals(IPAddress.Broadcast))
            return $"'{text}' is a broadcast address, not a host a probe can connect to";
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
            return $"'{text}' is an unspecified address (it means this host), not a destination";
        flow = new ExpectedFlow(protocol, address, port);
        return null;
    }

    private static bool IsMulticast(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6
        ? address.IsIPv6Multicast
        : (address.GetAddressBytes()[0] & 0xF0) == 0xE0; // 224.0.0.0/4

    /// <inheritdoc />
    public override string ToString() => (Protocol == ProtocolType.Tcp ? "tcp:" : "udp:")
        + (Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString()) + ":" + Port;
}
