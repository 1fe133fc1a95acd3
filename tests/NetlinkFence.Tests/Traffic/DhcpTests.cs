using System.Diagnostics;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Traffic;

/// <summary>
/// A host that takes its address from DHCP keeps it under a policy. Real components: Debian's dnsmasq serves DHCP in a
/// "world" namespace (a lease of 2 minutes, dnsmasq's least, renewal after 6 s and rebinding after 12 s), ISC dhclient
/// asks from the agent's namespace with a policy applied, its script only records each event and sets the address
/// there (never the host's resolv.conf). dhclient's first lease and its rebinding are broadcasts on a packet socket,
/// which no table sees; its renewal is a unicast UDP datagram to the server's port 67, which the policy denies unless
/// an entry allows it.
/// </summary>
public sealed class DhcpTests
{
    private const string Server = "10.77.0.1";

    /// <summary>The world with dnsmasq, the agent with a policy and dhclient, over one veth pair; all gone on dispose.</summary>
    private sealed class DhcpPair : IDisposable
    {
        private readonly List<Process> _processes = [];
        private readonly List<string> _clientLog = [];
        private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("netlinkfence-dhcp-");

        public DhcpPair()
        {
            World = TestNamespace.Create();
            Agent = TestNamespace.Create();
            try
            {
                SetUp();
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        private void SetUp()
        {
            // IPv4 only: a link coming up sends IPv6 router solicitations and MLD reports, which the policy (with no IPv6
            // peer) denies, and which would blur what egress_denied says about the renewal.
            foreach (var ns in new[] { World, Agent })
                ns.Exec("sysctl", "-qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
            TestNamespace.Run("ip", $"link add vw netns {World.Name} type veth peer name va netns {Agent.Name}");
            World.Exec("ip", $"addr add {Server}/24 dev vw");
            World.Exec("ip", "link set vw up");
            Agent.Exec("ip", "link set va up");
            Start(World, null, "/usr/sbin/dnsmasq", "--keep-in-foreground", "--log-facility=-", "--conf-file=/dev/null", "--port=0", "--bind-interfaces",
                "--interface=vw", "--dhcp-range=10.77.0.50,10.77.0.60,2m", "--dhcp-option=option:T1,6", "--dhcp-option=option:T2,12",
                $"--dhcp-leasefile={Path.Combine(_directory.FullName, "server.leases")}", "--pid-file=", "--user=root");
        }

        public TestNamespace World { get; }
        public TestNamespace Agent { get; }

        private string Events => Path.Combine(_directory.FullName, "events");

        public string ClientLog
        {
            get { lock (_clientLog) return string.Join("\n", _clientLog); }
        }

        /// <summary>Starts dhclient on the agent's side, in the foreground, every file of it in this pair's directory.</summary>
        public void StartClient()
        {
            string script = Path.Combine(_directory.FullName, "script");
            File.WriteAllText(script, $$"""
                #!/bin/sh
                echo "$reason $new_ip_address" >> {{Events}}
                case "$reason" in
                  BOUND|RENEW|REBIND|REBOOT) [ -n "$new_ip_address" ] && ip addr replace "$new_ip_address/24" dev "$interface" ;;
                esac
                exit 0
                """.Replace("\r", ""));
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            string config = Path.Combine(_directory.FullName, "dhclient.conf");
            File.WriteAllText(config, "request subnet-mask, dhcp-lease-time, dhcp-renewal-time, dhcp-rebinding-time;\n");
            Start(Agent, line => { lock (_clientLog) _clientLog.Add(line); }, "/sbin/dhclient", "-d", "-v", "-cf", config,
                "-lf", Path.Combine(_directory.FullName, "client.leases"), "-pf", Path.Combine(_directory.FullName, "dhclient.pid"), "-sf", script, "va");
        }

        /// <summary>The script's events so far ("BOUND 10.77.0.50", ...).</summary>
        public List<string> EventsSoFar() => File.Exists(Events) ? [.. File.ReadAllLines(Events).Where(l => l.Length > 0)] : [];

        /// <summary>Waits until the script has seen <paramref name="count"/> events after PREINIT; false after <paramref name="seconds"/>.</summary>
        public bool WaitForEvents(int count, int seconds)
        {
            var deadline = DateTime.UtcNow.AddSeconds(seconds);
            while (DateTime.UtcNow < deadline)
            {
                if (EventsSoFar().Count(e => !e.StartsWith("PREINIT", StringComparison.Ordinal)) >= count)
                    return true;
                Thread.Sleep(200);
            }
            return false;
        }

        /// <summary>Starts <paramref name="program"/> in <paramref name="ns"/>; each line it writes to standard error goes to <paramref name="errorLine"/>.</summary>
        private void Start(TestNamespace ns, Action<string>? errorLine, string program, params string[] arguments)
        {
            var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string argument in (string[])["netns", "exec", ns.Name, program, .. arguments])
                start.ArgumentList.Add(argument);
            var process = Process.Start(start)!;
            // Both pipes are read from the start, so a chatty process never blocks on a full one and no line is missed.
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) errorLine?.Invoke(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _processes.Add(process);
        }

        public void Dispose()
        {
            foreach (var process in _processes)
            {
                try
                {
                    process.Kill();
                    process.WaitForExit(5000);
                }
                catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                }
                process.Dispose();
            }
            Agent.Dispose();
            World.Dispose();
            _directory.Delete(recursive: true);
        }
    }

    private static string Apply(DhcpPair pair, string allow)
    {
        string policy = TestScratch.PathFor("nlf-dhcp", ".yaml");
        File.WriteAllText(policy, $"version: 1\negress:\n  allow:\n    - {{ name: control, to: [203.0.113.50], tcp: [443] }}\n{allow}");
        var apply = CliRunner.Run($"apply {policy} --netns {pair.Agent.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr);
        return policy;
    }

    /// <summary>What <c>egress_denied</c> dropped so far, as <c>stats</c> reads it.</summary>
    private static long EgressDenied(DhcpPair pair, string policy)
    {
        var stats = CliRunner.Run($"stats --policy {policy} --netns {pair.Agent.Name} --output json");
        Assert.True(stats.ExitCode == 0, stats.Stderr);
        using var json = System.Text.Json.JsonDocument.Parse(stats.Stdout);
        return json.RootElement.GetProperty("denied").EnumerateArray().Single(d => d.GetProperty("chain").GetString() == "egress_denied").GetProperty("packets").GetInt64();
    }

    [Fact]
    public void Without_an_entry_for_the_server_the_renewal_is_denied_and_the_lease_is_kept_by_rebinding()
    {
        using var pair = new DhcpPair();
        string policy = Apply(pair, "");
        pair.StartClient();
        Assert.True(pair.WaitForEvents(1, 60), $"no lease within 60 s under the policy:\n{pair.ClientLog}");
        string bound = Assert.Single(pair.EventsSoFar(), e => e.StartsWith("BOUND ", StringComparison.Ordinal));
        // The renewal (after 6 s) fails with EPERM from the policy; the rebinding (after 12 s) is a broadcast and works.
        Assert.True(pair.WaitForEvents(2, 90), $"the lease was not renewed or rebound within 90 s:\n{pair.ClientLog}");
        string log = pair.ClientLog;
        Assert.Contains($"on va to {Server} port 67", log);
        Assert.Contains("send_packet: Operation not permitted", log);
        Assert.True(EgressDenied(pair, policy) > 0, "the denied renewal is not counted in egress_denied");
        string kept = pair.EventsSoFar().Where(e => !e.StartsWith("PREINIT", StringComparison.Ordinal)).ElementAt(1);
        Assert.Matches("^(RENEW|REBIND) ", kept);
        Assert.Equal(bound.Split(' ')[1], kept.Split(' ')[1]);
        Assert.Contains($"inet {bound.Split(' ')[1]}/24", pair.Agent.Exec("ip", "-o addr show dev va"));
    }

    [Fact]
    public void With_an_entry_for_the_servers_port_67_the_renewal_goes_to_the_server_and_nothing_is_denied()
    {
        using var pair = new DhcpPair();
        string policy = Apply(pair, $"    - {{ name: dhcp-server, to: [{Server}], udp: [67] }}\n");
        pair.StartClient();
        Assert.True(pair.WaitForEvents(2, 90), $"no lease and renewal within 90 s:\n{pair.ClientLog}");
        string log = pair.ClientLog;
        int unicast = log.IndexOf($"on va to {Server} port 67", StringComparison.Ordinal);
        Assert.True(unicast >= 0, log);
        Assert.Contains("DHCPACK", log[unicast..]);
        Assert.DoesNotContain("Operation not permitted", log);
        Assert.Equal(0, EgressDenied(pair, policy));
        Assert.StartsWith("RENEW ", pair.EventsSoFar().Where(e => !e.StartsWith("PREINIT", StringComparison.Ordinal)).ElementAt(1));
    }
}
