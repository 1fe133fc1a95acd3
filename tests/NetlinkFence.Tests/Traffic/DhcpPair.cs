using System.Diagnostics;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Traffic;

/// <summary>
/// What the world's dnsmasq serves: DHCP, DHCPv6, or only router advertisements of its /64 (SLAAC).</summary>
internal enum DhcpService
{
    V4,
    V6,
    RouterAdvertisements,
}

/// <summary>
/// The world with Debian's dnsmasq serving DHCP (or DHCPv6, or router advertisements), the agent where a test applies a policy and starts ISC
/// dhclient, over one veth pair (vw, va); processes, namespaces and files all gone on dispose. dhclient's script only
/// records each event and sets the address in the agent's namespace (never the host's resolv.conf).
/// </summary>
internal sealed class DhcpPair : IDisposable
{
    private readonly List<Process> _processes = [];
    private readonly List<string> _clientLog = [];
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("netlinkfence-dhcp-");
    private readonly DhcpService _service;
    private readonly bool _ipv6;

    /// <summary>The DHCPv4 server's address, and the DHCPv6 server's global one (it answers from its link-local).</summary>
    public const string Server = "10.77.0.1", ServerV6 = "2001:db8:77::1";

    public DhcpPair(DhcpService service = DhcpService.V4)
    {
        _service = service;
        _ipv6 = service != DhcpService.V4;
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
        // DHCPv4: IPv6 off, since a link coming up sends IPv6 router solicitations and MLD reports, which a policy
        // with no IPv6 peer denies, and which would blur what egress_denied says about the renewal.
        if (!_ipv6)
        {
            foreach (var ns in new[] { World, Agent })
                ns.Exec("sysctl", "-qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
        }
        TestNamespace.Run("ip", $"link add vw netns {World.Name} type veth peer name va netns {Agent.Name}");
        World.Exec("ip", _ipv6 ? $"-6 addr add {ServerV6}/64 dev vw nodad" : $"addr add {Server}/24 dev vw");
        World.Exec("ip", "link set vw up");
        Agent.Exec("ip", "link set va up");
        // A 2-minute lease, dnsmasq's least; DHCPv4 renews after 6 s and rebinds after 12 s (DHCPv6 after 60 s).
        string[] service = _service switch
        {
            DhcpService.V4 => ["--dhcp-range=10.77.0.50,10.77.0.60,2m", "--dhcp-option=option:T1,6", "--dhcp-option=option:T2,12"],
            DhcpService.V6 => ["--dhcp-range=2001:db8:77::100,2001:db8:77::1ff,64,2m"],
            _ => ["--enable-ra", "--dhcp-range=::,constructor:vw,ra-only"],
        };
        Start(World, null, "/usr/sbin/dnsmasq", ["--keep-in-foreground", "--log-facility=-", "--conf-file=/dev/null", "--port=0", "--bind-interfaces",
            "--interface=vw", .. service, $"--dhcp-leasefile={Path.Combine(_directory.FullName, "server.leases")}", "--pid-file=", "--user=root"]);
    }

    public TestNamespace World { get; }
    public TestNamespace Agent { get; }

    private string Events => Path.Combine(_directory.FullName, "events");

    public string ClientLog
    {
        get { lock (_clientLog) return string.Join("\n", _clientLog); }
    }

    /// <summary>
    /// Starts dhclient (<c>-6</c> for DHCPv6) on the agent's side, in the foreground, every file of it in this pair's
    /// directory. DHCPv6 asks from the agent's link-local address, so it waits until that has passed duplicate
    /// address detection.
    /// </summary>
    public void StartClient()
    {
        if (_ipv6)
            Assert.True(Eventually(() => Agent.Exec("ip", "-6 addr show dev va scope link") is var a && a.Contains("fe80::", StringComparison.Ordinal) && !a.Contains("tentative", StringComparison.Ordinal), 20),
                "the agent's link-local address never became usable: " + Agent.Exec("ip", "-6 addr show dev va"));
        string script = Path.Combine(_directory.FullName, "script");
        File.WriteAllText(script, $$"""
            #!/bin/sh
            echo "$reason $new_ip_address$new_ip6_address" >> {{Events}}
            case "$reason" in
              BOUND|RENEW|REBIND|REBOOT) [ -n "$new_ip_address" ] && ip addr replace "$new_ip_address/24" dev "$interface" ;;
              BOUND6|RENEW6|REBIND6) [ -n "$new_ip6_address" ] && ip -6 addr replace "$new_ip6_address/128" dev "$interface" nodad ;;
            esac
            exit 0
            """.Replace("\r", ""));
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string config = Path.Combine(_directory.FullName, "dhclient.conf");
        File.WriteAllText(config, "request subnet-mask, dhcp-lease-time, dhcp-renewal-time, dhcp-rebinding-time;\n");
        Start(Agent, line => { lock (_clientLog) _clientLog.Add(line); }, "/sbin/dhclient", [.. (string[])(_ipv6 ? ["-6"] : []), "-d", "-v", "-cf", config,
            "-lf", Path.Combine(_directory.FullName, "client.leases"), "-pf", Path.Combine(_directory.FullName, "dhclient.pid"), "-sf", script, "va"]);
    }

    /// <summary>Applies <paramref name="yaml"/> to the agent with the CLI; the policy file's path.</summary>
    public string Apply(string yaml)
    {
        string policy = TestScratch.PathFor("nlf-dhcp", ".yaml");
        File.WriteAllText(policy, yaml);
        var apply = CliRunner.Run($"apply {policy} --netns {Agent.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr);
        return policy;
    }

    /// <summary>What <paramref name="chain"/> (<c>egress_denied</c>, <c>ingress_denied</c>) dropped so far, as <c>stats</c> reads it.</summary>
    public long Denied(string policy, string chain)
    {
        var stats = CliRunner.Run($"stats --policy {policy} --netns {Agent.Name} --output json");
        Assert.True(stats.ExitCode == 0, stats.Stderr);
        using var json = System.Text.Json.JsonDocument.Parse(stats.Stdout);
        return json.RootElement.GetProperty("denied").EnumerateArray().Single(d => d.GetProperty("chain").GetString() == chain).GetProperty("packets").GetInt64();
    }

    /// <summary>The script's events so far ("BOUND 10.77.0.50", "BOUND6 2001:db8:77::1a2", ...).</summary>
    public List<string> EventsSoFar() => File.Exists(Events) ? [.. File.ReadAllLines(Events).Where(l => l.Length > 0)] : [];

    /// <summary>Waits until the script has seen <paramref name="count"/> events after PREINIT; false after <paramref name="seconds"/>.</summary>
    public bool WaitForEvents(int count, int seconds) =>
        Eventually(() => EventsSoFar().Count(e => !e.StartsWith("PREINIT", StringComparison.Ordinal)) >= count, seconds);

    /// <summary>Waits until the client has written a line containing <paramref name="text"/>; false after <paramref name="seconds"/>.</summary>
    public bool WaitForClientLog(string text, int seconds) => Eventually(() => ClientLog.Contains(text, StringComparison.Ordinal), seconds);

    private static bool Eventually(Func<bool> condition, int seconds) => Poll.Until(condition, seconds, everyMilliseconds: 200);

    /// <summary>Starts <paramref name="program"/> in <paramref name="ns"/>; each line it writes to standard error goes to <paramref name="errorLine"/>.</summary>
    private void Start(TestNamespace ns, Action<string>? errorLine, string program, string[] arguments)
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
