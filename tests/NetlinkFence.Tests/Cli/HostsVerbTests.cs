using System.Text.Json;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>
/// <c>netlinkfence hosts POLICY [--check] [--file FILE]</c>: the policy's <c>hosts:</c> pins as /etc/hosts lines, and
/// whether a hosts file agrees with them. The seed's "force static /etc/hosts entries": with the pins there, a policy
/// without resolvers closes DNS altogether and the agent still reaches its platform by name.
/// </summary>
public sealed class HostsVerbTests
{
    private const string Pinned = """
        version: 1
        hosts:
          api.ironclaw.example: [203.0.113.50, "2001:db8::50"]
          collector.example: [192.0.2.20]
        egress:
          allow:
            - { name: control, to: [api.ironclaw.example], tcp: [443] }
            - { name: syslog, to: [collector.example], tcp: [6514] }
        """;

    private static string Write(string text, string extension)
    {
        string path = TestScratch.PathFor("nlf-hosts", extension);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void The_pins_print_as_hosts_file_lines_in_the_policys_order()
    {
        string policy = Write(Pinned, ".yaml");
        var text = CliRunner.Run($"hosts {policy}");
        Assert.Equal(0, text.ExitCode);
        Assert.Equal(["203.0.113.50\tapi.ironclaw.example", "2001:db8::50\tapi.ironclaw.example", "192.0.2.20\tcollector.example"],
            text.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')));
        var json = CliRunner.Run($"hosts {policy} --output json");
        Assert.Equal(0, json.ExitCode);
        using var document = JsonDocument.Parse(json.Stdout);
        var hosts = document.RootElement.GetProperty("hosts").EnumerateArray().ToList();
        Assert.Equal(["api.ironclaw.example", "collector.example"], hosts.Select(h => h.GetProperty("name").GetString()));
        Assert.Equal(["203.0.113.50", "2001:db8::50"], hosts[0].GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));

        var none = CliRunner.Run($"hosts {Write("version: 1\n", ".yaml")}");
        Assert.Equal(0, none.ExitCode);
        Assert.Contains("pins no name under 'hosts:'", none.Stdout);
    }

    [Fact]
    public void A_hosts_file_with_every_pin_at_its_addresses_passes_the_check()
    {
        string policy = Write(Pinned, ".yaml");
        // Names without case, aliases, comments, a subset of a pin's addresses and lines glibc skips (no address, an IPv4
        // shorthand inet_pton refuses, which .NET would read as 198.0.0.51) are all fine.
        string hosts = Write("127.0.0.1 localhost\n# 198.51.100.9 api.ironclaw.example\nnot-an-address api.ironclaw.example\n198.51 api.ironclaw.example\n"
            + "203.0.113.50\tAPI.IronClaw.example api  # the platform\n192.0.2.20 logs collector.example\n", ".hosts");
        var check = CliRunner.Run($"hosts {policy} --check --file {hosts}");
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.Contains($"{hosts} holds every pin of the policy (2 names) at its pinned addresses", check.Stdout);
    }

    [Fact]
    public void A_missing_name_and_an_address_the_pin_does_not_hold_are_each_said_and_exit_1()
    {
        string policy = Write(Pinned, ".yaml");
        string hosts = Write("127.0.0.1 localhost\n203.0.113.50 api.ironclaw.example\n198.51.100.9 api.ironclaw.example\n", ".hosts");
        var check = CliRunner.Run($"hosts {policy} --check --file {hosts}");
        Assert.Equal(1, check.ExitCode);
        Assert.Contains($"{hosts}:3: api.ironclaw.example is 198.51.100.9 here, which its pin in {policy} does not hold (203.0.113.50, 2001:db8::50): the host connects there, and the policy denies it", check.Stdout);
        Assert.Contains($"{hosts}: collector.example is pinned in {policy} (192.0.2.20) but not here: the host asks DNS for it", check.Stdout);
        Assert.Contains("(2 differences); `netlinkfence hosts", check.Stdout);

        var json = CliRunner.Run($"hosts {policy} --check --file {hosts} --output json");
        Assert.Equal(1, json.ExitCode);
        using var document = JsonDocument.Parse(json.Stdout);
        Assert.False(document.RootElement.GetProperty("matches").GetBoolean());
        var differences = document.RootElement.GetProperty("differences").EnumerateArray()
            .Select(d => $"{d.GetProperty("kind").GetString()} {d.GetProperty("name").GetString()} {d.GetProperty("line").GetRawText()} {d.GetProperty("address").GetRawText()}");
        Assert.Equal(["other-address api.ironclaw.example 3 \"198.51.100.9\"", "missing collector.example null null"], differences);
    }

    [Fact]
    public void A_hosts_file_that_does_not_exist_is_bad_input()
    {
        var check = CliRunner.Run($"hosts {Write(Pinned, ".yaml")} --check --file /nonexistent/hosts");
        Assert.Equal(2, check.ExitCode);
        Assert.Contains("/nonexistent/hosts does not exist; give the hosts file with --file", check.Stderr);
    }

    /// <summary>
    /// The printed lines, bind-mounted over /etc/hosts in a mount namespace of the agent's own (never the host's file),
    /// are what glibc answers: with a policy that names no resolver, DNS to the former resolver is denied, and the agent
    /// still connects to its platform by name.
    /// </summary>
    [Fact]
    public void With_the_printed_lines_as_etc_hosts_the_agent_reaches_its_platform_by_name_with_dns_closed()
    {
        using var net = new AgentAndWorld("203.0.113.50", "192.0.2.53");
        net.ListenTcp("203.0.113.50", 443);
        net.ListenUdp("192.0.2.53", 53);
        string policy = Write(Pinned, ".yaml");
        Assert.True(net.UdpReachable("192.0.2.53", 53, AgentAndWorld.ExpectedThroughMs), "the resolver does not answer without a policy");
        var apply = CliRunner.Run($"apply {policy} --netns {net.Agent.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr);
        Assert.False(net.UdpReachable("192.0.2.53", 53), "DNS gets through a policy that names no resolver");

        var printed = CliRunner.Run($"hosts {policy}");
        Assert.Equal(0, printed.ExitCode);
        string hosts = Write("127.0.0.1 localhost\n" + printed.Stdout, ".hosts");
        Assert.Equal(0, CliRunner.Run($"hosts {policy} --check --file {hosts}").ExitCode);
        string script = Write("""
            import socket
            s = socket.create_connection(('api.ironclaw.example', 443), 10)
            print(s.getpeername()[0], s.recv(16).decode().strip())
            """, ".py");
        var connect = TestNamespace.TryRun("ip", $"netns exec {net.Agent.Name} unshare -m sh -c \"mount --bind {hosts} /etc/hosts && python3 {script}\"");
        Assert.True(connect.ExitCode == 0, $"exit {connect.ExitCode}: {connect.Stderr}{connect.Stdout}");
        Assert.StartsWith("203.0.113.50 ", connect.Stdout);
    }
}
