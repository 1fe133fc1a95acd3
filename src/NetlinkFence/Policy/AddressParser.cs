using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Policy;

/// <summary>Parses addresses, CIDRs and host names as written in a policy.</summary>
internal static partial class AddressParser
{
    // '_' as well as LDH: DNS carries any byte, and directory-managed zones (Active Directory, some cloud resolvers)
    // hold host names with '_' that resolvers answer; refusing them would leave no way to name such a host.
    [GeneratedRegex(@"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HostName();

    /// <summary>Returns a destination, or an error message with a fix.</summary>
    public static Destination? Parse(string text, SourceLocation location, out string? error, out string? fix)
    {
        error = null;
        fix = null;
        if (text.Contains("://", StringComparison.Ordinal))
        {
            error = $"'{text}' is a URL; destinations are addresses, networks or host names";
            fix = "write the host name alone (e.g. api.example.com) and its port under tcp:";
            return null;
        }
        int slash = text.IndexOf('/');
        if (slash >= 0)
        {
            string addressText = text[..slash], prefixText = text[(slash + 1)..];
            if (!TryParseStrict(addressText, out var address)
                || prefixText.Length is 0 or > 3 || !prefixText.All(char.IsAsciiDigit)
                || !int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out int prefix))
            {
                error = $"'{text}' is not a CIDR";
                fix = "write a full address and a prefix length, e.g. 10.0.0.0/8 or 2001:db8::/32";
                return null;
            }
            if (Refuse(address, text, out error, out fix))
                return null;
            int bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            if (prefix > bits)
            {
                error = $"prefix /{prefix} is longer than the {bits} bits of {address}";
                fix = $"use a prefix between /0 and /{bits} (/{bits} is a single host)";
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
        if (TryParseStrict(text, out var single))
        {
            if (Refuse(single, text, out error, out fix))
                return null;
            return Destination.ForNetwork(new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128), location);
        }
        if (HostName().IsMatch(text) && !text.All(c => char.IsDigit(c) || c == '.'))
            return Destination.ForHost(text.TrimEnd('.'), location);
        if (IsInternationalizedName(text, out error, out fix))
            return null;
        error = $"'{text}' is neither an IP address, a CIDR nor a host name";
        fix = "write e.g. 203.0.113.50, 10.0.0.0/8, 2001:db8::1 or api.example.com";
        return null;
    }

    /// <summary>
    /// <c>FIRST-LAST</c> (both included, one family, no prefixes) as the fewest networks that hold exactly those addresses,
    /// each a destination at <paramref name="location"/>: <c>198.51.100.8-198.51.100.20</c> is 198.51.100.8/29,
    /// 198.51.100.16/30 and 198.51.100.20. Providers publish address lists as ranges, and converting them by hand is
    /// where a reviewer stops checking. False when <paramref name="text"/> is not written as a range (no <c>-</c>, or
    /// what comes before it is not an address: host names have hyphens); true with <paramref name="error"/> set when it
    /// is one but cannot be used.
    /// </summary>
    public static bool TryParseRange(string text, SourceLocation location, out List<Destination>? destinations, out string? error, out string? fix)
    {
        destinations = null;
        error = fix = null;
        int dash = text.IndexOf('-');
        if (dash < 0 || !TryParseStrict(text[..dash].Trim(), out var first))
            return false;
        string lastText = text[(dash + 1)..].Trim();
        if (!TryParseStrict(lastText, out var last) || last.AddressFamily != first.AddressFamily)
        {
            error = TryParseStrict(lastText, out _)
                ? $"'{text}' mixes an IPv4 and an IPv6 address"
                : $"'{text}' is not an address range: '{lastText}' is not an address";
            fix = first.AddressFamily == AddressFamily.InterNetwork
                ? "write FIRST-LAST with two addresses, e.g. 203.0.113.10-203.0.113.20 (both included)"
                : "write FIRST-LAST with two addresses, e.g. 2001:db8::10-2001:db8::20 (both included)";
            return true;
        }
        if (Refuse(first, text, out error, out fix) || Refuse(last, text, out error, out fix))
            return true;
        UInt128 low = AddressMath.ToNumber(first), high = AddressMath.ToNumber(last);
        if (high < low)
        {
            error = $"address range '{text}' runs backwards";
            fix = $"write {last}-{first}";
            return true;
        }
        string range = $"{first}-{last}";
        destinations = [.. AddressMath.Networks(low, high, first.AddressFamily).Select(n => Destination.ForRangePart(n, range, location))];
        return true;
    }

    /// <summary>
    /// A host name with letters beyond ASCII (<c>bücher.example</c>): the error gives the ASCII (IDNA) form DNS carries,
    /// to be written instead. Not converted silently: in a rule a reviewer reads, <c>xn--</c> shows that a name is not
    /// what its letters look like (a Cyrillic 'а' in a look-alike of a Latin name).
    /// </summary>
    public static bool IsInternationalizedName(string text, [NotNullWhen(true)] out string? error, [NotNullWhen(true)] out string? fix)
    {
        error = fix = null;
        if (Ascii.IsValid(text))
            return false;
        string ascii;
        try
        {
            ascii = new IdnMapping { UseStd3AsciiRules = true }.GetAscii(text.TrimEnd('.'));
        }
        catch (ArgumentException)
        {
            return false;
        }
        if (!HostName().IsMatch(ascii))
            return false;
        error = $"'{text}' is an internationalized host name; policies take the ASCII form DNS carries, so no look-alike letter hides in a rule";
        fix = $"write {ascii}";
        return true;
    }

    /// <summary>Parses a single address (for <c>hosts:</c> pins); <paramref name="error"/> says why not when it can.</summary>
    public static IPAddress? ParseAddress(string text, out string? error)
    {
        error = null;
        if (!TryParseStrict(text, out var address))
            return null;
        if (Refuse(address, text, out error, out string? fix))
        {
            error += "; " + fix;
            return null;
        }
        return address;
    }

    /// <summary>Parses a single address (for <c>hosts:</c> pins).</summary>
    public static IPAddress? ParseAddress(string text) => ParseAddress(text, out _);

    /// <summary>
    /// IPv4 only as a full dotted quad without leading zeros (IPAddress.TryParse also takes "10", "10.1", "0x0a.1"
    /// or octal "010" and reads them as something else entirely); IPv6 in any standard form.
    /// </summary>
    private static bool TryParseStrict(string text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (text.Length == 0 || char.IsWhiteSpace(text[0]) || char.IsWhiteSpace(text[^1]))
            return false;
        if (text.Contains(':'))
            return IPAddress.TryParse(text, out address) && address.AddressFamily == AddressFamily.InterNetworkV6;
        return IsDottedQuad(text) && IPAddress.TryParse(text, out address) && address.AddressFamily == AddressFamily.InterNetwork;
    }

    /// <summary>Four parts of one to three digits, none with a leading zero (checked without splitting: the loader and the importer call this per address).</summary>
    private static bool IsDottedQuad(ReadOnlySpan<char> text)
    {
        int parts = 0;
        foreach (var range in text.Split('.'))
        {
            var part = text[range];
            if (++parts > 4 || part.Length is 0 or > 3 || part.ContainsAnyExceptInRange('0', '9') || part.Length > 1 && part[0] == '0')
                return false;
        }
        return parts == 4;
    }

    /// <summary>Addresses that parse but would make a rule that never matches what the writer meant.</summary>
    private static bool Refuse(IPAddress address, string text, out string? error, out string? fix)
    {
        error = fix = null;
        if (HasZone(address))
        {
            error = $"'{text}' has a zone index; nftables matches addresses without one";
            fix = "remove the %zone part";
        }
        else if (address.IsIPv4MappedToIPv6)
        {
            error = $"'{text}' is an IPv4-mapped IPv6 address: IPv4 traffic never carries it, so the rule would match nothing";
            fix = $"write {address.MapToIPv4()}";
        }
        return error is not null;
    }

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
