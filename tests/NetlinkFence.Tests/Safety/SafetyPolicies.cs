using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Safety;

/// <summary>Policy files for the confirm, rollback and self-test tests (written to the test process's scratch directory, owned by root).</summary>
internal static class SafetyPolicies
{
    /// <summary>The control plane at 203.0.113.50:443 (ports given), the collector at 192.168.1.20:6514.</summary>
    public static string Text(string controlPorts = "[443]", string? extra = null, string? selftest = null) => $$"""
        version: 1
        define:
          ironclaw: 203.0.113.50
          collector: 192.168.1.20
        log:
          prefix: "EGRESS-DENIED: "
        egress:
          allow:
            - name: ironclaw-control
              to: [$ironclaw]
              tcp: {{controlPorts}}
            - name: syslog-tls
              to: [$collector]
              tcp: [6514]
        {{extra ?? ""}}
        {{selftest ?? ""}}
        """;

    public static string Write(string text)
    {
        string path = TestScratch.PathFor("nlf-safety", ".yaml");
        File.WriteAllText(path, text);
        return path;
    }
}
