using NetlinkFence.Interop;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// A policy without IPv6 peers closes IPv6 altogether, the kernel's own link housekeeping included. Where IPv6 is on,
/// every interface that comes up sends router solicitations, duplicate address detection and listener reports, and
/// each is logged, counted and shipped as a denial. <c>apply</c> and <c>run</c> say so once, with the two ways out.
/// </summary>
internal static class IPv6Housekeeping
{
    private const string ConfDirectory = "/proc/sys/net/ipv6/conf";

    /// <summary>Why the housekeeping is denied, as the note and <c>watch</c>'s explanation both say it.</summary>
    internal const string Closed = "the policy names no IPv6 peer, so it closes IPv6 altogether";

    /// <summary>The two ways out, as the note and <c>watch</c>'s explanation both give them.</summary>
    internal const string WayOut = "where the host needs no IPv6, set net.ipv6.conf.all.disable_ipv6 to 1 (which sets every interface and the default; "
        + "README: \"A policy without IPv6 on a host with IPv6 on\"), else name its IPv6 peers";

    /// <summary>The note for <paramref name="policy"/> in <paramref name="target"/>, or null when there is nothing to say.</summary>
    public static string? Note(CompiledPolicy policy, TargetNamespace target)
    {
        if (policy.HasIPv6Peers)
            return null;
        // /proc/sys/net shows the namespace of the thread that opens it, so the reading joins the target. A note comes
        // after the commit: a namespace that cannot be joined now only means no note.
        List<string> on;
        try
        {
            on = NetworkNamespace.Run(target.Handle, InterfacesWithIPv6On);
        }
        catch (ErrnoException)
        {
            return null;
        }
        return on.Count == 0 ? null : Describe(on, target);
    }

    private static string Describe(IReadOnlyList<string> on, TargetNamespace target)
    {
        var named = on.Where(name => name != "default").ToList();
        string where = (named.Count, on.Contains("default")) switch
        {
            (0, _) => "for every interface that comes up",
            (_, true) => $"on {string.Join(", ", named)} and every new interface",
            _ => $"on {string.Join(", ", named)}",
        };
        return $"{Closed}, but IPv6 is on in {target.Description} ({where}): the router solicitations, duplicate address detection "
            + $"and listener reports the kernel sends when an interface comes up are logged and counted as denials; {WayOut}";
    }

    /// <summary>
    /// The interfaces of the calling thread's namespace with IPv6 on (<c>disable_ipv6</c> 0), loopback left out (every
    /// policy accepts it); <c>default</c> stands for interfaces made later. None when the kernel has no IPv6 at all.
    /// </summary>
    private static List<string> InterfacesWithIPv6On()
    {
        var on = new List<string>();
        try
        {
            foreach (string directory in Directory.EnumerateDirectories(ConfDirectory).Order(StringComparer.Ordinal))
            {
                string name = Path.GetFileName(directory);
                if (name is not ("all" or "lo") && File.ReadAllText(Path.Combine(directory, "disable_ipv6")).Trim() == "0")
                    on.Add(name);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No /proc/sys/net/ipv6 (booted with ipv6.disable=1), or an interface that went away while listed: say less.
        }
        return on;
    }
}
