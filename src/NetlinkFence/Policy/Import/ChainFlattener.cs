using System.Net;
using NetlinkFence.Policy.Layout;

namespace NetlinkFence.Policy.Import;

/// <summary>
/// Inlines user-defined chains into the built-in chain that jumps to them (as a packet meets the rules): a rule of
/// chain C reached by <c>-j C</c> matches when both the jump's conditions and its own hold. A loop of jumps is an
/// error (iptables-restore refuses it too).
/// </summary>
internal sealed class ChainFlattener(IptablesTable table, bool ipv6, PolicyRules errors)
{
    /// <summary>Most nested jumps (the kernel allows no deeper call stacks in practice either).</summary>
    private const int MaxDepth = 32;

    public HashSet<string> Reached { get; } = new(StringComparer.Ordinal);

    public List<FlatRule> Flatten(IptablesChain chain, Direction direction)
    {
        var result = new List<FlatRule>();
        Walk(chain, direction, [], null, result, [chain.Name], null);
        return result;
    }

    // unreachable: why no packet reaches this chain's rules (a jump after RETURNs that return every packet); null when they are reached.
    private void Walk(IptablesChain chain, Direction direction, List<IptablesRule> via, FlatRule? outer, List<FlatRule> result, List<string> path, string? unreachable)
    {
        // In a chain INPUT jumps to, RETURNs by address type may together end the chain for every packet.
        var returnsAll = via.Count > 0 && direction == Direction.Input && !ipv6 ? AddressTypeReturns.Find(chain.Rules) : null;
        for (int i = 0; i < chain.Rules.Count; i++)
        {
            var rule = chain.Rules[i];
            var flat = Combine(Of(rule, direction, via), outer);
            flat.NeverReached = unreachable;
            if (returnsAll is var (first, last) && i >= first)
            {
                if (i <= last)
                    flat.ReturnsAll = AddressTypeReturns.Returned(chain.Rules, (first, last));
                else
                    flat.NeverReached ??= AddressTypeReturns.NeverReached(chain.Rules, (first, last));
            }
            if (rule.TargetIsChain && table.Chains.TryGetValue(rule.Target!, out var called))
            {
                if (path.Contains(called.Name))
                {
                    errors.Error(rule.Line.At(rule.TargetColumn), $"-j {called.Name} makes a loop ({string.Join(" -> ", path)} -> {called.Name})",
                        "iptables-restore refuses loops of jumps; remove one of them", "iptables-jump-loop");
                    continue;
                }
                if (path.Count >= MaxDepth)
                {
                    errors.Error(rule.Line.At(rule.TargetColumn), $"jumps nest more than {MaxDepth} chains deep", "flatten the chains", "iptables-jump-depth");
                    continue;
                }
                Reached.Add(called.Name);
                Walk(called, direction, [.. via, rule], flat, result, [.. path, called.Name], flat.NeverReached);
                continue;
            }
            result.Add(flat);
        }
    }

    private static FlatRule Of(IptablesRule rule, Direction direction, List<IptablesRule> via)
    {
        var flat = new FlatRule
        {
            Rule = rule,
            Via = via,
            Protocol = rule.Protocol,
            Peer = direction == Direction.Input ? rule.Sources : rule.Destinations,
            Local = direction == Direction.Input ? rule.Destinations : rule.Sources,
            Interface = direction == Direction.Input ? rule.InInterface : rule.OutInterface,
            WrongInterface = direction == Direction.Input ? rule.OutInterface : direction == Direction.Output ? rule.InInterface : null,
            DestinationPorts = rule.DestinationPorts,
            SourcePorts = rule.SourcePorts,
            States = rule.States,
            Limit = rule.Limit,
            IcmpType = rule.IcmpType,
            HopLimit = rule.HopLimit,
            UidOwner = rule.UidOwner,
            Comment = rule.Comment,
        };
        if (direction == Direction.Forward)
        {
            // Forwarded packets have two peers; the translator only needs to know the rule's verdict.
            flat.Peer = null;
            flat.Local = null;
            flat.Interface = rule.InInterface ?? rule.OutInterface;
            flat.WrongInterface = null;
        }
        foreach (var (column, reason) in rule.Unsupported)
            flat.Unsupported.Add((rule.Line, column, reason));
        return flat;
    }

    /// <summary>The rule with the calling jump's conditions added (the jump's own reasons carry over).</summary>
    private static FlatRule Combine(FlatRule inner, FlatRule? outer)
    {
        if (outer is null)
            return inner;
        inner.Unsupported.InsertRange(0, outer.Unsupported);
        inner.Never ??= outer.Never;
        inner.Protocol = Same(outer.Protocol, inner.Protocol, "protocols", inner);
        inner.Interface = Same(outer.Interface, inner.Interface, "interfaces", inner);
        inner.WrongInterface ??= outer.WrongInterface;
        inner.Peer = Addresses(outer.Peer, inner.Peer, inner);
        inner.Local = Addresses(outer.Local, inner.Local, inner);
        inner.DestinationPorts = Ports(outer.DestinationPorts, inner.DestinationPorts, inner);
        inner.SourcePorts = Ports(outer.SourcePorts, inner.SourcePorts, inner);
        inner.States = outer.States is { } o ? inner.States is { } i ? o & i : o : inner.States;
        if (inner.States == ConnState.None)
            inner.Never ??= "the jump's states and the rule's states have none in common";
        if (outer.Limit is not null)
        {
            if (inner.Limit is not null)
                inner.Unsupported.Add((outer.Line, 1, "a rate limit on the jump and another on the rule"));
            inner.Limit ??= outer.Limit;
        }
        inner.IcmpType = Same(outer.IcmpType, inner.IcmpType, "ICMP types", inner);
        inner.HopLimit = Same(outer.HopLimit, inner.HopLimit, "hop limits", inner);
        if (outer.UidOwner is not null && inner.UidOwner is not null && outer.UidOwner != inner.UidOwner && !(IptablesValues.IsUid(outer.UidOwner) && IptablesValues.IsUid(inner.UidOwner)))
            inner.Unsupported.Add((outer.Line, 1, $"the jump's owner ({outer.UidOwner}) and the rule's ({inner.UidOwner}): one a uid, one a name, which may be one user"));
        else
            inner.UidOwner = Same(outer.UidOwner, inner.UidOwner, "owners", inner);
        inner.Comment ??= outer.Comment;
        return inner;
    }

    private static string? Same(string? outer, string? inner, string what, FlatRule rule)
    {
        if (outer is null || inner is null || outer == inner)
            return inner ?? outer;
        rule.Never ??= $"the jump and the rule match different {what} ({outer}, {inner})";
        return inner;
    }

    /// <summary>The addresses in both lists, keeping the spelling (and variables) of the narrower list when it lies inside the other.</summary>
    private static IReadOnlyList<AddressItem>? Addresses(IReadOnlyList<AddressItem>? outer, IReadOnlyList<AddressItem>? inner, FlatRule rule)
    {
        if (outer is null || inner is null)
            return inner ?? outer;
        var outerNetworks = outer.SelectMany(a => a.Networks).ToList();
        var innerNetworks = inner.SelectMany(a => a.Networks).ToList();
        if (innerNetworks.All(n => outerNetworks.Any(o => o.Contains(n.BaseAddress) && o.PrefixLength <= n.PrefixLength)))
            return inner;
        if (outerNetworks.All(n => innerNetworks.Any(o => o.Contains(n.BaseAddress) && o.PrefixLength <= n.PrefixLength)))
            return outer;
        var both = new List<IPNetwork>();
        foreach (var a in outerNetworks)
        {
            foreach (var b in innerNetworks.Where(b => AddressMath.Overlap(a, b)))
                both.Add(a.PrefixLength >= b.PrefixLength ? a : b);
        }
        if (both.Count == 0)
        {
            rule.Never ??= "the jump's and the rule's addresses have none in common";
            return inner;
        }
        return both.Distinct().Select(n => new AddressItem(IptablesValues.Format(n), [n])).ToList();
    }

    private static IReadOnlyList<PortItem>? Ports(IReadOnlyList<PortItem>? outer, IReadOnlyList<PortItem>? inner, FlatRule rule)
    {
        if (outer is null || inner is null)
            return inner ?? outer;
        static bool Within(IEnumerable<PortItem> a, IEnumerable<PortItem> b) =>
            a.SelectMany(p => p.Ranges).All(r => b.SelectMany(p => p.Ranges).Any(o => o.First <= r.First && r.Last <= o.Last));
        if (Within(inner, outer))
            return inner;
        if (Within(outer, inner))
            return outer;
        rule.Unsupported.Add((rule.Line, 1, "the jump's ports and the rule's ports overlap only in part"));
        return inner;
    }
}
