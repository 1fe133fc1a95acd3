namespace NetlinkFence.Policy;

/// <summary>Checks the flows of <c>selftest:</c> (loader) and of <see cref="PolicyBuilder.SelfTest"/>, with locations.</summary>
internal static class SelfTestRules
{
    public static List<ExpectedFlow> Flows(PolicyRules rules, IEnumerable<(string Text, SourceLocation Location)> items, string path)
    {
        var flows = new List<ExpectedFlow>();
        foreach (var (text, location) in items)
        {
            if (ExpectedFlow.Problem(text, out var flow) is not { } problem)
                flows.Add(flow);
            else
                rules.Error(location, $"{path}: {problem}", "write an address and port: \"203.0.113.50:443\" (tcp), \"udp:192.168.1.10:53\" or \"[2001:db8::50]:443\"", "bad-flow");
        }
        return flows;
    }
}
