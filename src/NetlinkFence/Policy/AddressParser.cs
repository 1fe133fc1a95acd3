using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace NetlinkFence.Policy;

/// <summary>Parses addresses, CIDRs and host names as written in a policy.</summary>
internal static partial class AddressParser
{
    [GeneratedRegex(@"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HostName();

    /// <summary>Returns a destination, or an error message with a fix.</summary>
    public static Destination? Parse(string text, SourceLocation location, out string? error, out string? fix)
    {
        error = null;
        fix = null;
        int slash = text.IndexOf('/');
        if (slash >= 0)
        {
            if (!IPAddress.TryParse(text.AsSpan(0, slash), out var address)
                || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int prefix))
            {
                error = $"'{text}' is not a CIDR";
                fix = "write an address and a prefix length, e.g. 10.0.0.0/8 or 2001:db8::/32";
                return null;
            }
            int bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            if (prefix > bits)
            {
                error = $"prefix /{prefix} is longer than the {bits} bits of {address}";
                fix = $"use a prefix between /0 and /{bits}";
                return null;
            }
            var canonical = Canonical(address, prefix);
            if (!canonical.Equals(address))
            {
                error = $"'{text}' is not a network address: it has host bits set";
                fix = $"write {canonical}/{prefix} (the network), or {address} alone (one host)";
                return null;
            }
            return Destination.ForNetwork(new IPNetwork(canonical, prefix), location);
        }
        if (IPAddress.TryParse(text, out var single) && (single.AddressFamily == AddressFamily.InterNetworkV6 || text.Count(c => c == '.') == 3))
        {
            if (HasZone(single))
            {
                error = $"'{text}' has a zone index; nftables matches addresses without one";
                fix = "remove the %zone part";
                return null;
            }
            return Destination.ForNetwork(new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128), location);
        }
        if (HostName().IsMatch(text) && !text.All(c => char.IsDigit(c) || c == '.'))
            return Destination.ForHost(text.TrimEnd('.'), location);
        error = $"'{text}' is neither an IP address, a CIDR nor a host name";
        fix = "write e.g. 203.0.113.50, 10.0.0.0/8, 2001:db8::1 or api.example.com";
        return null;
    }

    /// <summary>Parses a single address (for <c>hosts:</c> pins).</summary>
    public static IPAddress? ParseAddress(string text) =>
        IPAddress.TryParse(text, out var address) && !HasZone(address)
        && (address.AddressFamily == AddressFamily.InterNetworkV6 || text.Count(c => c == '.') == 3) ? address : null;

    /// <summary>IPv6 zone (<c>%eth0</c>); reading ScopeId of an IPv4 address throws.</summary>
    public static bool HasZone(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0;

    private static IPAddress Canonical(IPAddress address, int prefix)
    {
        byte[] bytes = address.GetAddressBytes();
        for (int bit = prefix; bit < bytes.Length * 8; bit++)
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return new IPAddress(bytes);
    }
}
