using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Policy.Import;

/// <summary>Addresses, ports and rates as iptables writes them.</summary>
internal static class IptablesValues
{
    /// <summary>Whether a <c>--uid-owner</c> value is a uid (else a user name, which may be the same user as some uid).</summary>
    public static bool IsUid(string owner) => owner.All(char.IsAsciiDigit);

    /// <summary>
    /// <c>203.0.113.50</c>, <c>10.0.0.0/8</c>, <c>10.0.0.0/255.0.0.0</c> (IPv4) or <c>2001:db8::/32</c> (IPv6). Host bits
    /// are cleared as iptables does (<c>10.1.2.3/8</c> is 10.0.0.0/8).
    /// </summary>
    public static IPNetwork? Network(string text, bool ipv6, out string? error)
    {
        error = null;
        int slash = text.IndexOf('/');
        string addressText = slash < 0 ? text : text[..slash];
        if (AddressParser.ParseAddress(addressText) is not { } address)
        {
            error = addressText.Length > 0 && addressText.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-') && addressText.Any(char.IsAsciiLetter)
                ? $"'{IptablesSaveParser.Printable(addressText)}' is a host name: iptables-restore would look it up once, in DNS, and keep whatever it answered"
                : $"'{IptablesSaveParser.Printable(text)}' is not an IP address or network";
            return null;
        }
        bool isV6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        if (isV6 != ipv6)
        {
            error = $"{address} is an IPv{(isV6 ? 6 : 4)} address in an {(ipv6 ? "ip6tables" : "iptables")} file";
            return null;
        }
        int bits = isV6 ? 128 : 32;
        int prefix = bits;
        if (slash >= 0)
        {
            string mask = text[(slash + 1)..];
            if (mask.Length is > 0 and <= 3 && mask.All(char.IsAsciiDigit))
                prefix = int.Parse(mask, NumberStyles.None, CultureInfo.InvariantCulture);
            else if (!isV6 && AddressParser.ParseAddress(mask) is { AddressFamily: AddressFamily.InterNetwork } dotted && ContiguousPrefix(dotted) is { } p)
                prefix = p;
            else
                prefix = -1;
            if (prefix < 0 || prefix > bits)
            {
                error = $"'{IptablesSaveParser.Printable(text)}' has a bad prefix or mask";
                return null;
            }
        }
        return new IPNetwork(prefix == bits ? address : Masked(address, prefix), prefix);
    }

    /// <summary>
    /// <c>-m iprange</c>'s <c>FIRST-LAST</c> (both included; <c>ADDRESS</c> alone is a range of one) as the fewest networks
    /// that hold exactly those addresses: <c>198.51.100.8-198.51.100.20</c> is 198.51.100.8/29, 198.51.100.16/30 and
    /// 198.51.100.20. Empty for a reversed range, which iptables loads and never matches (the caller says so).
    /// </summary>
    public static List<IPNetwork>? AddressRange(string text, bool ipv6, out string? error)
    {
        int dash = text.IndexOf('-');
        var first = Network(dash < 0 ? text : text[..dash], ipv6, out error);
        var last = first is null ? null : Network(dash < 0 ? text : text[(dash + 1)..], ipv6, out error);
        if (first is null || last is null)
            return null;
        if (first.Value.PrefixLength != last.Value.PrefixLength || last.Value.PrefixLength != (ipv6 ? 128 : 32))
        {
            error = $"'{IptablesSaveParser.Printable(text)}' is not a range of addresses (FIRST-LAST, no prefixes)";
            return null;
        }
        UInt128 low = AddressMath.ToNumber(first.Value.BaseAddress), high = AddressMath.ToNumber(last.Value.BaseAddress);
        return low > high ? [] : [.. AddressMath.Networks(low, high, first.Value.BaseAddress.AddressFamily)];
    }

    /// <summary>As a policy writes it: an address alone for a single host, else a CIDR.</summary>
    public static string Format(IPNetwork network) =>
        network.PrefixLength == (network.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32) ? network.BaseAddress.ToString() : network.ToString();

    /// <summary><c>443</c>, <c>8000:8100</c>, <c>:1023</c> (from 0), <c>1024:</c> (to 65535); numbers only.</summary>
    public static (int First, int Last)? PortRange(string text, out string? error)
    {
        error = null;
        int colon = text.IndexOf(':');
        string firstText = colon < 0 ? text : text[..colon], lastText = colon < 0 ? text : text[(colon + 1)..];
        int? first = colon >= 0 && firstText.Length == 0 ? 0 : Port(firstText);
        int? last = colon >= 0 && lastText.Length == 0 ? 65535 : Port(lastText);
        if (first is null || last is null)
        {
            error = text.Any(char.IsAsciiLetter)
                ? $"port '{IptablesSaveParser.Printable(text)}' is a service name; the importer reads numbers only (iptables-save writes numbers)"
                : $"'{IptablesSaveParser.Printable(text)}' is not a port or port range";
            return null;
        }
        if (first > last)
        {
            error = $"port range '{text}' runs backwards (iptables-restore refuses it: min > max)";
            return null;
        }
        return (first.Value, last.Value);

        static int? Port(string t) => t.Length is > 0 and <= 5 && t.All(char.IsAsciiDigit) && int.Parse(t, NumberStyles.None, CultureInfo.InvariantCulture) is var n && n <= 65535 ? n : null;
    }

    /// <summary><c>10/sec</c>, <c>3/minute</c>, <c>1/h</c>, <c>5</c> (per second): iptables takes any prefix of the unit's name.</summary>
    public static (ulong Count, ulong UnitSeconds)? Rate(string text)
    {
        int slash = text.IndexOf('/');
        string countText = slash < 0 ? text : text[..slash];
        string unit = slash < 0 ? "second" : text[(slash + 1)..].ToLowerInvariant();
        if (countText.Length is 0 or > 9 || !countText.All(char.IsAsciiDigit) || unit.Length == 0)
            return null;
        ulong seconds = "second".StartsWith(unit, StringComparison.Ordinal) ? 1
            : "minute".StartsWith(unit, StringComparison.Ordinal) ? 60
            : "hour".StartsWith(unit, StringComparison.Ordinal) ? 3600
            : "day".StartsWith(unit, StringComparison.Ordinal) ? 86400UL : 0UL;
        ulong count = ulong.Parse(countText, NumberStyles.None, CultureInfo.InvariantCulture);
        return seconds == 0 || count == 0 ? null : (count, seconds);
    }

    public static string RateText((ulong Count, ulong UnitSeconds) rate) =>
        $"{rate.Count}/{rate.UnitSeconds switch { 1 => "second", 60 => "minute", 3600 => "hour", _ => "day" }}";

    private static int? ContiguousPrefix(IPAddress mask)
    {
        uint value = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(mask.GetAddressBytes());
        int prefix = System.Numerics.BitOperations.PopCount(value);
        return prefix == 0 || value == uint.MaxValue << (32 - prefix) ? prefix : null;
    }

    private static IPAddress Masked(IPAddress address, int prefix)
    {
        byte[] bytes = address.GetAddressBytes();
        for (int bit = prefix; bit < bytes.Length * 8; bit++)
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return new IPAddress(bytes);
    }
}
