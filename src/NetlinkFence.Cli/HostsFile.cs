using System.Net;

namespace NetlinkFence.Cli;

/// <summary>One name of a hosts file line: the line's number, its address and the name.</summary>
internal sealed record HostsFileName(int Line, IPAddress Address, string Name);

/// <summary>
/// Where a hosts file and the policy's <c>hosts:</c> pins disagree: a pinned name the file does not hold
/// (<c>missing</c>: the host asks DNS for it), or a line that gives a pinned name an address its pin does not hold
/// (<c>other-address</c>: the host connects there, and the policy denies it).
/// </summary>
internal sealed record HostsFileDifference(string Kind, string Name, int? Line, IPAddress? Address);

/// <summary>
/// A hosts file (<c>/etc/hosts</c>) as glibc's files backend reads it, and the policy's <c>hosts:</c> pins as its lines.
/// With every pin in /etc/hosts, the host looks those names up in no DNS server: the policy's addresses are the ones
/// it connects to, and a policy whose names are all pinned can leave <c>egress.dns.resolvers</c> out, which closes DNS
/// (and DNS tunnelling through the resolvers) altogether.
/// </summary>
internal static class HostsFile
{
    /// <summary>
    /// The names of <paramref name="text"/>: each line is an address, then its names; <c>#</c> starts a comment. A line
    /// whose first word is not an address is skipped, as glibc skips it. Names compare without case, as glibc's do.
    /// </summary>
    public static IReadOnlyList<HostsFileName> Parse(string text)
    {
        var names = new List<HostsFileName>();
        int number = 0;
        foreach (string raw in text.Split('\n'))
        {
            number++;
            string line = raw.Split('#', 2)[0];
            string[] words = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2 || !IsAddress(words[0], out var address))
                continue;
            names.AddRange(words.Skip(1).Select(name => new HostsFileName(number, address, name)));
        }
        return names;
    }

    /// <summary>
    /// An address as glibc reads it there (inet_pton): IPv6, or IPv4 as four decimal numbers, never the shorthands .NET
    /// also takes (<c>10.1</c> would be 10.0.0.1).
    /// </summary>
    private static bool IsAddress(string word, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (word.Contains(':'))
            return IPAddress.TryParse(word, out address);
        string[] parts = word.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) <= 255)
            && IPAddress.TryParse(word, out address);
    }

    /// <summary>The pins as hosts file lines, one per address and name, in the policy's order.</summary>
    public static IEnumerable<string> Lines(IReadOnlyDictionary<string, IReadOnlyList<IPAddress>> pins) =>
        pins.SelectMany(pin => pin.Value.Select(address => $"{address}\t{pin.Key}"));

    /// <summary>Where <paramref name="file"/> and <paramref name="pins"/> disagree, in the pins' order.</summary>
    public static IReadOnlyList<HostsFileDifference> Compare(IReadOnlyDictionary<string, IReadOnlyList<IPAddress>> pins, IReadOnlyList<HostsFileName> file)
    {
        var differences = new List<HostsFileDifference>();
        foreach (var (name, addresses) in pins)
        {
            var lines = file.Where(n => string.Equals(n.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
            if (lines.Count == 0)
                differences.Add(new HostsFileDifference("missing", name, null, null));
            differences.AddRange(lines.Where(n => !addresses.Contains(n.Address)).Select(n => new HostsFileDifference("other-address", name, n.Line, n.Address)));
        }
        return differences;
    }
}
