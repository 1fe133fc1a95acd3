using System.Net.Sockets;
using System.Net;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;

namespace NetlinkFence.Policy;

/// <summary>The verdict the compiled policy gives a new outgoing flow, and which part of the policy decides it.</summary>
/// <param name="Allowed">True when a rule accepts the flow.</param>
/// <param name="Reason">The allow entry (<c>'ironclaw-control' at policy.yaml:22:7</c>) or why nothing allows it.</param>
public sealed record FlowVerdict(bool Allowed, string Reason)
{
    /// <summary>The allow entry the verdict is about: the one that allows the flow, or the one whose destination the
    /// address is when only the port or protocol is not allowed; null when no entry is involved.</summary>
    public AllowEntry? Entry { get; init; }
}

/// <summary>
/// Explains, without touching the kernel, what the compiled output chain does with a new connection: it
/// walks the same rules and set elements the kernel gets. Used by <c>probe</c> to say why a flow was
/// allowed or denied.
/// </summary>
public static class FlowExplainer
{
    /// <summary>The verdict for a new <paramref name="protocol"/> flow to <paramref name="address"/>:<paramref name="port"/>.</summary>
    public static FlowVerdict Explain(CompiledPolicy compiled, ProtocolType protocol, IPAddress address, ushort port) =>
        Explain(compiled, protocol, address, port, []);

    /// <summary>
    /// As <see cref="Explain(CompiledPolicy, ProtocolType, IPAddress, ushort)"/>, on a host whose own addresses are
    /// <paramref name="hostAddresses"/> (its interfaces'): a flow to one of them goes over loopback, which every policy allows.
    /// </summary>
    public static FlowVerdict Explain(CompiledPolicy compiled, ProtocolType protocol, IPAddress address, ushort port, IReadOnlyCollection<IPAddress> hostAddresses)
    {
        ArgumentNullException.ThrowIfNull(compiled);
        ArgumentNullException.ThrowIfNull(hostAddresses);
        if (IPAddress.IsLoopback(address))
            return new FlowVerdict(true, "loopback traffic is always allowed (oif \"lo\" accept)");
        if (hostAddresses.Contains(address))
            return new FlowVerdict(true, OwnAddress(address));
        string proto = protocol == ProtocolType.Tcp ? "tcp" : "udp";
        string denied = PolicyCompiler.Denied(compiled.Source.Policy.EgressDeny);
        byte[] addressBytes = address.GetAddressBytes();
        // DNS: ip daddr . udp dport @dns_v4 (the protocol is the rule's, the set holds address . port).
        byte[] dnsKey = [.. addressBytes, (byte)(port >> 8), (byte)port, 0, 0];
        foreach (var rule in compiled.Rules.Where(r => r.Rule.Chain == "output"))
        {
            var lookup = rule.Rule.Expressions.OfType<LookupExpression>().FirstOrDefault();
            var l4 = rule.Rule.Expressions.OfType<CmpExpression>().FirstOrDefault(c => c.Data.Count == 1 && c.Data[0] is (byte)ProtocolType.Tcp or (byte)ProtocolType.Udp);
            if (lookup is null || l4 is null || l4.Data[0] != (byte)protocol)
                continue;
            var set = compiled.Sets.FirstOrDefault(s => s.Set.Name == lookup.SetName);
            if (set is not null && set.Set.KeyLength == dnsKey.Length && set.Elements.Any(e => Holds(set.Set, e, dnsKey)))
                return new FlowVerdict(true, $"DNS to a named resolver at {rule.Origin}");
        }
        // Allow entries: ip daddr . meta l4proto . th dport @allow_v4; the element's comment names the first entry.
        var allow = compiled.Sets.FirstOrDefault(s => s.Set.Name == PolicyCompiler.EgressAllowSet(address.AddressFamily));
        byte[] key = [.. addressBytes, (byte)protocol, 0, 0, 0, (byte)(port >> 8), (byte)port, 0, 0];
        if (allow?.Elements.FirstOrDefault(e => Holds(allow.Set, e, key)) is { } element)
        {
            var entry = compiled.Source.Policy.Egress.FirstOrDefault(e => e.Name == element.Comment);
            return new FlowVerdict(true, $"allow entry '{element.Comment}'{(entry is null ? "" : $" at {entry.Location}")}") { Entry = entry };
        }
        // Scoped entries (by:): the destination is allowed, but only to the cgroups or users the entry names.
        foreach (bool cgroup in new[] { true, false })
        {
            var scoped = compiled.Sets.FirstOrDefault(s => s.Set.Name == PolicyCompiler.ScopedAllowSet(address.AddressFamily, cgroup));
            if (scoped?.Elements.FirstOrDefault(e => Holds(scoped.Set, e, key, fields: 3)) is { } only)
            {
                var entry = compiled.Source.Policy.Egress.FirstOrDefault(e => e.Name == only.Comment);
                string who = entry is null ? "the services it names" : string.Join(", ", compiled.Source.ScopesOf(entry).Select(PolicyCompiler.Describe));
                return new FlowVerdict(false, $"allow entry '{only.Comment}'{(entry is null ? "" : $" at {entry.Location}")} allows {address} {proto}/{port} only by: {who}; "
                    + $"from any other process it is logged and {denied} by egress_denied") { Entry = entry };
            }
        }
        // Window entries compile closed (no element holds them): the kernel lets their flows through only while open.
        if (compiled.Source.Policy.Egress.FirstOrDefault(e => e.Window is not null && Covers(compiled.Source, e, protocol, address, port)) is { } window)
            return new FlowVerdict(false, $"window entry '{window.Name}' at {window.Location} allows {address} {proto}/{port} only while it is open "
                + $"(for at most {WindowDuration.Format(window.Window!.Value)}); closed, it is logged and {denied} by egress_denied") { Entry = window };
        var known = compiled.Sets.Where(s => s.Set.Name.StartsWith("allow_", StringComparison.Ordinal) || s.Set.Name.StartsWith("dns_", StringComparison.Ordinal))
            .SelectMany(s => s.Elements.Where(e => AddressIn(s.Set, e, addressBytes))).FirstOrDefault();
        // The element's comment names the entry the address belongs to (DNS elements carry none).
        var about = known?.Comment is { } name ? compiled.Source.Policy.Egress.FirstOrDefault(e => e.Name == name) : null;
        return new FlowVerdict(false, known is not null
            ? $"{address} is allowed, but not {proto}/{port}: logged and {denied} by egress_denied"
            : $"no entry allows {address}: logged and {denied} by egress_denied") { Entry = about };
    }

    /// <summary>Why a flow to one of the host's own addresses is allowed (also <c>lint</c>'s words, <see cref="SelfTestCoverage"/>).</summary>
    internal static string OwnAddress(IPAddress address) =>
        $"{address} is an address of this host, and traffic to it goes over loopback, which is always allowed (oif \"lo\" accept)";

    /// <summary>Whether <paramref name="entry"/> names <paramref name="address"/> (a network, or an address its names resolved to) and the port.</summary>
    private static bool Covers(ResolvedPolicy resolved, AllowEntry entry, ProtocolType protocol, IPAddress address, ushort port) =>
        (protocol == ProtocolType.Tcp ? entry.Tcp : entry.Udp).Any(r => r.Contains(port))
        && entry.Peers.Any(p => p.Network is { } network ? network.Contains(address)
            : resolved.Names.TryGetValue(p.HostName!, out var name) && name.Addresses.Contains(address));

    /// <summary>
    /// Whether a concatenated range element holds <paramref name="key"/>: every field on its own between the
    /// element's first and last value (a concatenation is a box, not a lexicographic range).
    /// </summary>
    private static bool Holds(NftSet set, SetElement element, byte[] key, int? fields = null)
    {
        if (element.IntervalEnd || (fields is null ? element.Key.Count != key.Length : element.Key.Count < key.Length))
            return false;
        var first = element.Key.Span;
        var last = (element.KeyEnd ?? element.Key).Span;
        int at = 0;
        foreach (var type in set.Key.Take(fields ?? set.Key.Count))
        {
            int size = type.Size(), padded = (size + 3) & ~3;
            var value = key.AsSpan(at, size);
            if (value.SequenceCompareTo(first.Slice(at, size)) < 0 || value.SequenceCompareTo(last.Slice(at, size)) > 0)
                return false;
            at += padded;
        }
        return true;
    }

    private static bool AddressIn(NftSet set, SetElement element, byte[] address)
    {
        if (element.IntervalEnd || !set.IsConcatenation || set.Key[0].Size() != address.Length || element.Key.Count < address.Length)
            return false;
        var last = (element.KeyEnd ?? element.Key).Span;
        return address.AsSpan().SequenceCompareTo(element.Key.Span[..address.Length]) >= 0 && address.AsSpan().SequenceCompareTo(last[..address.Length]) <= 0;
    }
}
