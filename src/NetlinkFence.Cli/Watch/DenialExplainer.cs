using System.Net;
using System.Net.Sockets;
using NetlinkFence.Logging;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli.Watch;

/// <summary>
/// Explains a denial with the policy: the same words as <c>probe</c> (<see cref="FlowExplainer"/>), and DNS to an
/// address that is not one of the policy's resolvers said as such. Names come from <c>hosts:</c> pins and from the
/// names the policy resolved when it was loaded.
/// </summary>
internal sealed class DenialExplainer
{
    private const ushort Dns = 53;
    private const string IngressDeniedChain = "ingress_denied"; // the compiler's input deny chain
    private readonly CompiledPolicy _compiled;
    private readonly string _policyPath;
    private readonly string? _netns;
    private const int MaxCached = 4096; // a flood repeats few flows; a scan of many is bounded
    private readonly Dictionary<IPAddress, string> _names = [];
    private readonly Dictionary<(IPAddress?, ProtocolType, ushort?, byte?, string?), DenialExplanation> _cache = [];

    /// <param name="compiled">The policy that explains.</param>
    /// <param name="policyPath">Its file, and <paramref name="netns"/> the namespace it guards: a closed window's
    /// denial names the <c>open</c> that opens it there.</param>
    /// <param name="netns">The namespace the denials come from; null for the host's own.</param>
    public DenialExplainer(CompiledPolicy compiled, string policyPath, string? netns)
    {
        _compiled = compiled;
        _policyPath = policyPath;
        _netns = netns;
        foreach (var (host, resolution) in compiled.Source.Names.OrderBy(n => n.Key, StringComparer.Ordinal))
            foreach (var address in resolution.Addresses)
                _names.TryAdd(address, host);
    }

    public DenialExplanation Explain(DenialRecord record)
    {
        var key = (record.Destination, record.Protocol, record.DestinationPort, record.IcmpType, record.Chain);
        if (_cache.TryGetValue(key, out var known))
            return known;
        if (_cache.Count >= MaxCached)
            _cache.Clear();
        string? name = record.Destination is { } d ? _names.GetValueOrDefault(d) : null;
        var (reason, entry) = Reason(record);
        return _cache[key] = new DenialExplanation(reason, name, entry);
    }

    /// <summary>The reason, and the allow entry it is about when there is one (an allowed address on another port).</summary>
    private (string Reason, AllowEntry? Entry) Reason(DenialRecord record)
    {
        if (record.Destination is not { } destination)
            return ("the packet was cut before its addresses; the policy cannot be consulted", null);
        if (record.Protocol == ProtocolType.IcmpV6 && !_compiled.HasIPv6Peers && LinkHousekeeping(record.IcmpType) is { } housekeeping)
            return ($"the kernel's IPv6 link housekeeping ({housekeeping}): {IPv6Housekeeping.Closed}; {IPv6Housekeeping.WayOut}", null);
        if (record.Chain == IngressDeniedChain)
            return ($"no input entry allows {Describe(record)}", null);
        if (record.Protocol is not (ProtocolType.Tcp or ProtocolType.Udp) || record.DestinationPort is not { } port)
            return ($"no entry allows {Describe(record)} to {destination} (entries allow tcp and udp only)", null);
        var verdict = FlowExplainer.Explain(_compiled, record.Protocol, destination, port);
        if (port == Dns && !verdict.Allowed)
            return ($"DNS to a non-resolver: {destination} is not in egress.dns.resolvers", verdict.Entry);
        if (verdict.Allowed)
            return ($"this policy allows it ({verdict.Reason}), but the live table denied it: the live table is not this policy", verdict.Entry);
        string reason = SuggestedCommand.ReasonWithOpen(verdict, _policyPath, _netns);
        // probe's wording, without its tail: every record here was logged and dropped (or rejected) by a deny chain
        int tail = reason.IndexOf(": logged and ", StringComparison.Ordinal);
        return (tail >= 0 ? reason[..tail] : reason, verdict.Entry);
    }

    /// <summary>
    /// What the kernel sends and answers on its own once an interface has IPv6 (RFC 4861 and 3810): a policy without
    /// IPv6 peers denies it, so these are the denials an IPv4-only policy shows on a host with IPv6 on.
    /// </summary>
    private static string? LinkHousekeeping(byte? icmpType) => icmpType switch
    {
        130 => "a multicast listener query",
        131 or 143 => "a multicast listener report",
        132 => "a multicast listener done",
        133 => "a router solicitation",
        134 => "a router advertisement",
        135 => "a neighbour solicitation",
        136 => "a neighbour advertisement",
        _ => null,
    };

    private static string Describe(DenialRecord record) => record.Protocol switch
    {
        ProtocolType.Tcp or ProtocolType.Udp when record.DestinationPort is { } port => $"{DenialText.Protocol(record)}/{port}",
        _ => DenialText.Protocol(record),
    };
}
