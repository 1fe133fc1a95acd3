using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Safety;

/// <summary>
/// <c>probe</c> says DENIED only with evidence (the live table's egress_denied self-test counter rose, or the kernel said
/// EPERM), and calls routing errors what they are.
/// </summary>
public sealed class ProbeVerbTests
{
    [Fact]
    public void DeniedNeedsEvidenceAndRoutingErrorsAreNotTheFirewall()
    {
        using var net = new AgentAndWorld("203.0.113.50", "198.51.100.7");
        net.ListenTcp("203.0.113.50", 443);
        net.ListenTcp("203.0.113.50", 8443);
        // No default route: 198.51.100.7 is ENETUNREACH; 203.0.113.255 is the agent's broadcast address.
        net.Agent.Exec("ip", "route del default");
        var (exit, stdout, stderr) = CliRunner.Run($"apply {SafetyPolicies.Write(SafetyPolicies.Text())} --netns {net.Agent.Name}");
        Assert.True(exit == 0, $"exit {exit}: {stdout}{stderr}");

        (exit, stdout, stderr) = CliRunner.Run($"probe --netns {net.Agent.Name} --timeout-ms 3000 tcp:203.0.113.50:443 203.0.113.50:443 tcp:203.0.113.50:8443 tcp:198.51.100.7:443 udp:203.0.113.255:53");
        Assert.True(exit == 0, $"exit {exit}: {stdout}{stderr}");
        Assert.Matches(@"(?m)^tcp:203\.0\.113\.50:443 +ALLOWED +\(connected\)$", stdout);
        // Written as in selftest: (and --expect-allow), without a protocol: TCP.
        Assert.Matches(@"(?m)^203\.0\.113\.50:443 +ALLOWED +\(connected\)$", stdout);
        Assert.Matches(@"(?m)^tcp:203\.0\.113\.50:8443 +DENIED +\(no answer, egress_denied probe count \+[1-9]\d*(, \+\d+ other packets dropped meanwhile \(not this probe's\))?\)$", stdout);
        Assert.Matches(@"(?m)^tcp:198\.51\.100\.7:443 +INCONCLUSIVE \(unreachable \(ENETUNREACH\), not the firewall\)$", stdout);
        Assert.Matches(@"(?m)^udp:203\.0\.113\.255:53 +INCONCLUSIVE \(refused \(EACCES: .*\), not the firewall\)$", stdout);

        // Without a netlinkfence table, EPERM still proves that a local firewall dropped it.
        Assert.Equal(0, CliRunner.Run($"remove --netns {net.Agent.Name}").ExitCode);
        net.Agent.Nft("-f -", """
            table inet other {
              chain output { type filter hook output priority 0; policy accept; udp dport 53 drop; }
            }
            """);
        (exit, stdout, stderr) = CliRunner.Run($"probe --netns {net.Agent.Name} --timeout-ms 3000 tcp:203.0.113.50:8443 udp:203.0.113.50:53");
        Assert.True(exit == 0, $"exit {exit}: {stdout}{stderr}");
        Assert.Matches(@"(?m)^tcp:203\.0\.113\.50:8443 +ALLOWED +\(connected\)$", stdout);
        Assert.Matches(@"(?m)^udp:203\.0\.113\.50:53 +DENIED +\(blocked by a local firewall \(EPERM\), egress_denied probe count not read \(no table inet netlinkfence\)\)$", stdout);
    }

    [Fact]
    public void WithAPolicyANameItUsesIsProbedAtEachOfItsAddresses()
    {
        using var net = new AgentAndWorld("203.0.113.50", "198.51.100.7");
        net.ListenTcp("203.0.113.50", 443);
        net.ListenTcp("198.51.100.7", 443);
        string policy = SafetyPolicies.Write("""
            version: 1
            hosts:
              api.example: [203.0.113.50]
              mirror.example: [198.51.100.7]
            egress:
              allow:
                - name: control
                  to: [api.example]
                  tcp: [443]
                - name: mirror
                  to: [mirror.example]
                  tcp: [80]
            """);
        var (exit, stdout, stderr) = CliRunner.Run($"apply {policy} --netns {net.Agent.Name}");
        Assert.True(exit == 0, $"exit {exit}: {stdout}{stderr}");

        // The name as the agent would write it (any case): one line per address, each with the entry that decides it.
        (exit, stdout, stderr) = CliRunner.Run($"probe --netns {net.Agent.Name} --policy {policy} --timeout-ms 3000 tcp:API.example:443 tcp:mirror.example:443");
        Assert.True(exit == 0, $"exit {exit}: {stdout}{stderr}");
        Assert.Matches(@"(?m)^tcp:API\.example:443 \(203\.0\.113\.50\) +ALLOWED +\(connected\) -- policy: allow entry 'control' at ", stdout);
        Assert.Matches(@"(?m)^tcp:mirror\.example:443 \(198\.51\.100\.7\) +DENIED +\(no answer, egress_denied probe count \+[1-9]", stdout);

        // A name the policy does not use, or any name without a policy: exit 2, saying why, and nothing is tried.
        (exit, stdout, stderr) = CliRunner.Run($"probe --netns {net.Agent.Name} --policy {policy} tcp:other.example:443");
        Assert.Equal(2, exit);
        Assert.Contains("'tcp:other.example:443' names the host 'other.example', not an address", stderr);
        Assert.Contains("the policy does not use that name", stderr);
        Assert.Equal("", stdout);
        (exit, stdout, stderr) = CliRunner.Run($"probe --netns {net.Agent.Name} tcp:api.example:443");
        Assert.Equal(2, exit);
        Assert.Contains("names the host 'api.example', not an address", stderr);
        Assert.Contains("with the policy that uses the name ('netlinkfence probe --policy POLICY')", stderr);

        // Not a flow: exit 2 with how to write one, before anything is tried.
        (exit, stdout, stderr) = CliRunner.Run($"probe --netns {net.Agent.Name} 203.0.113.50");
        Assert.Equal(2, exit);
        Assert.Contains("'203.0.113.50' is not a flow; write 203.0.113.50:443 (tcp), tcp:203.0.113.50:443, udp:", stderr);
        Assert.Equal("", stdout);
    }
}
