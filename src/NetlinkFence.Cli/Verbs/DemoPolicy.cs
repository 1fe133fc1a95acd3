using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// The seed's egress setup built with <see cref="PolicyBuilder"/>: IronClaw API 203.0.113.50:443 (pinned, never
/// looked up in DNS), resolver 192.168.1.10, syslog-TLS 192.168.1.20:6514, rate-limited denial log. The same policy
/// as <c>examples/ironclaw-agent.yaml</c>, so the demo's ruleset is the one <c>apply</c> commits for that file.
/// </summary>
internal static class DemoPolicy
{
    public static EgressPolicy Build(string table) => new PolicyBuilder()
        .Table(table)
        .Define("ironclaw", "203.0.113.50")
        .Define("resolvers", "192.168.1.10")
        .Define("collector", "192.168.1.20")
        .Pin("api.ironclaw.example", "$ironclaw")
        .Log("EGRESS-DENIED: ", rate: "10/second")
        .Resolvers("$resolvers")
        .AllowEgress("ironclaw-control", to: ["api.ironclaw.example"], tcp: [443])
        .AllowEgress("syslog-tls", to: ["$collector"], tcp: [6514])
        .Build();
}
