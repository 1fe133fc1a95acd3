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
    public static ExpectedFlow Parse(string text) => Problem(text, out var flow, out var named) is { } problem
        ? throw new InvalidInputException(named is null ? $"{problem}; {HowToWrite}"
            : $"{problem}; with the policy that uses the name ('netlinkfence probe --policy POLICY'), it is tried at each of its addresses; or {HowToWrite}")
        : flow;

    /// <summary>
    /// Parses <paramref name="text"/>, whose host may also be a name <paramref name="policy"/> knows (a <c>hosts:</c> pin
    /// or a name it resolved): such a flow stands for one flow to each of the name's addresses, in address order.
    /// Throws <see cref="InvalidInputException"/> for text that is not a flow, and for a name the policy does not use or
    /// that resolved to nothing.
    /// </summary>
    public static IReadOnlyList<ExpectedFlow> Parse(string text, ResolvedPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (Problem(text, out var flow, out var named) is not { } problem)
            return [flow];
        if (named is not var (protocol, host, port))
            throw new InvalidInputException($"{problem}; {HowToWrite}");
        if (!policy.Names.TryGetValue(host, out var resolution))
            throw new InvalidInputException($"{problem}, and the policy does not use that name; write an address, or a name in the policy's 'to:' or 'hosts:'");
        if (resolution.Addresses.Count == 0)
            throw new InvalidInputException($"{problem}, and the policy's name '{host}' has no address now (it did not resolve); write an address");
        return resolution.Addresses.Select(address => new ExpectedFlow(protocol, address, port)).ToList();
    }

    /// <summary>A flow whose host is a name (<c>tcp:api.example:443</c>): not a flow alone, one per address with a policy.</summary>
    internal readonly record struct NamedFlow(ProtocolType Protocol, string Host, ushort Port);

    /// <summary>Why <paramref name="text"/> is not a flow a probe can try (null when it is one, then in <paramref name="flow"/>).</summary>
    internal static string? Problem(string text, out ExpectedFlow flow) => Problem(text, out flow, out _);

    /// <summary>As <see cref="Problem(string, out ExpectedFlow)"/>; a flow to a host name is also given in <paramref name="named"/>.</summary>
    internal static string? Problem(string text, out ExpectedFlow flow, out NamedFlow? named)
    {
        ArgumentNullException.ThrowIfNull(text);
        flow = null!;
        named = null;
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
        if (!ushort.TryParse(rest[(colon + 1)..], out ushort port) || port == 0)
            return $"'{text}' is not a flow";
        if (!IPAddress.TryParse(host, out var address))
        {
            if (bracketed || AddressParser.Parse(host, SourceLocation.Code, out _, out _)?.HostName is not { } name)
                return $"'{text}' is not a flow";
            named = new NamedFlow(protocol, name, port);
            return $"'{text}' names the host '{name}', not an address: a flow goes to one address";
        }
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
