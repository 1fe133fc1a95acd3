using System.Net.Sockets;
using System.Net;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;

namespace NetlinkFence.Policy;

/// <summary>The verdict the compiled policy gives a new outgoing flow, and which part of the policy decides it.</summary>
/// <param name="Allowed">True when a rule accepts the flow.</param>
/// <param name="Reason">The allow entry (<c>'ironclaw-control' at policy.yaml:22:7</c>) or why nothing allows it.</param>
public sealed record FlowVerdict(bool Allowed, string Reason);

/// <summary>
/// Explains, without touching the kernel, what the compiled output chain does with a new connection: it
/// walks the same rules and set elements the kernel gets. Used by <c>probe</c> to say why a flow was
/// allowed or denied.
/// </summary>
public static class FlowExplainer
{
    /// <summary>The verdict for a new <paramref name="protocol"/> flow to <paramref name="address"/>:<paramref name="port"/>.</summary>
    public static FlowVerdict Explain(CompiledPolicy compiled, ProtocolType protocol, IPAddress address, ushort port)
    {
        if (IPAddress.IsLoopback(address))
            return new FlowVerdict(true, "loopback traffic is always allowed (oif \"lo\" accept)");
        string proto = protocol == ProtocolType.Tcp ? "tcp" : "udp";
        byte[] key = new byte[address.GetAddressBytes().Length + 4];
        address.GetAddressBytes().CopyTo(key, 0);
        key[^4] = (byte)(port >> 8);
        key[^3] = (byte)port;
        foreach (var rule in compiled.Rules.Where(r => r.Rule.Chain == "output"))
        {
            var lookup = rule.Rule.Expressions.OfType<LookupExpression>().FirstOrDefault();
            var l4 = rule.Rule.Expressions.OfType<CmpExpression>().FirstOrDefault(c => c.Data.Count == 1 && c.Data[0] is (byte)ProtocolType.Tcp or (byte)ProtocolType.Udp);
            if (lookup is null || l4 is null || l4.Data[0] != (byte)protocol)
                continue;
            var set = compiled.Sets.FirstOrDefault(s => s.Set.Name == lookup.SetName);
            if (set is null || set.Set.KeyLength != key.Length)
                continue;
            if (set.Elements.Any(e => e.KeyEnd is { } end && Compare(e.Key.Span, key) <= 0 && Compare(key, end.Span) <= 0))
            {
                string what = rule.Rule.Comment == "dns" ? "DNS to a named resolver" : $"allow entry '{rule.Rule.Comment}'";
                return new FlowVerdict(true, $"{what} at {rule.Origin}");
            }
        }
        bool addressKnown = compiled.Sets.Any(s => s.Set.KeyLength == key.Length && s.Elements.Any(e => e.KeyEnd is { } end
            && Compare(e.Key.Span[..^4], key.AsSpan(0, key.Length - 4)) <= 0 && Compare(key.AsSpan(0, key.Length - 4), end.Span[..^4]) <= 0));
        return new FlowVerdict(false, addressKnown
            ? $"{address} is allowed, but not {proto}/{port}: logged and dropped by egress_denied"
            : $"no entry allows {address}: logged and dropped by egress_denied");
    }

    private static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.SequenceCompareTo(b);
}
