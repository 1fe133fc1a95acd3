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
    /// <summary>Parses <paramref name="text"/>; false when it is not a flow.</summary>
    public static bool TryParse(string text, out ExpectedFlow flow)
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
            return false;
        string host = rest[..colon];
        bool bracketed = host.StartsWith('[') && host.EndsWith(']');
        if (bracketed)
            host = host[1..^1];
        if (!IPAddress.TryParse(host, out var address)
            || !ushort.TryParse(rest[(colon + 1)..], out ushort port) || port == 0)
            return false;
        flow = new ExpectedFlow(protocol, address, port);
        return true;
    }

    /// <summary>Parses <paramref name="text"/> or throws <see cref="ArgumentException"/> saying how to write a flow.</summary>
    public static ExpectedFlow Parse(string text) => TryParse(text, out var flow)
        ? flow
        : throw new ArgumentException($"'{text}' is not a flow; write 203.0.113.50:443 (tcp), tcp:203.0.113.50:443, udp:192.168.1.10:53 or [2001:db8::50]:443");

    /// <inheritdoc />
    public override string ToString() => (Protocol == ProtocolType.Tcp ? "tcp:" : "udp:")
        + (Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString()) + ":" + Port;
}
