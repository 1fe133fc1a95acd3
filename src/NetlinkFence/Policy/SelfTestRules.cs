namespace NetlinkFence.Policy;

/// <summary>Checks the flows of <c>selftest:</c> (loader) and of <see cref="PolicyBuilder.SelfTest"/>, with locations.</summary>
internal static class SelfTestRules
{
    /// <summary>
    /// The self-test of <paramref name="allow"/> and <paramref name="deny"/>. A flow may name a host that
    /// the policy's <paramref name="resolvers"/> or <paramref name="entries"/> use (kept as written, expanded to its
    /// addresses at apply); any other name is an error here, at load, not after a commit.
    /// </summary>
    public static SelfTest Test(PolicyRules rules, IEnumerable<Destination> resolvers, IEnumerable<AllowEntry> entries,
        IReadOnlyList<(string Text, SourceLocation Location)> allow, string allowPath,
        IReadOnlyList<(string Text, SourceLocation Location)> deny, string denyPath)
    {
        var names = resolvers.Concat(entries.SelectMany(e => e.Peers))
            .Select(d => d.HostName).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        var (allowFlows, namedAllow) = Flows(rules, names, allow, allowPath);
        var (denyFlows, namedDeny) = Flows(rules, names, deny, denyPath);
        var written = allow.Select(f => new WrittenFlow(f.Text.Trim(), f.Location, MustPass: true))
            .Concat(deny.Select(f => new WrittenFlow(f.Text.Trim(), f.Location, MustPass: false))).ToList();
        return new SelfTest(allowFlows, denyFlows) { NamedAllow = namedAllow, NamedDeny = namedDeny, Written = written };
    }

    private static (List<ExpectedFlow> Flows, List<string> Named) Flows(PolicyRules rules, HashSet<string> policyNames,
        IEnumerable<(string Text, SourceLocation Location)> items, string path)
    {
        var flows = new List<ExpectedFlow>();
        var named = new List<string>();
        foreach (var (text, location) in items)
        {
            if (ExpectedFlow.Problem(text, out var flow, out var host) is not { } problem)
                flows.Add(flow);
            else if (host is { } h && policyNames.Contains(h.Host))
                named.Add(text.Trim());
            else if (host is { } unused)
                rules.Error(location, $"{path}: {problem}, and no entry of the policy uses '{unused.Host}'",
                    "write an address and port, or a name of an entry's 'to:' (tried at each of its addresses when the policy is applied)", "bad-flow");
            else
                rules.Error(location, $"{path}: {problem}", "write an address and port: \"203.0.113.50:443\" (tcp), \"udp:192.168.1.10:53\", \"[2001:db8::50]:443\" or \"api.example.com:443\" (a name an entry uses)", "bad-flow");
        }
        return (flows, named);
    }
}
