using System.Diagnostics;
using System.Net;
using NetlinkFence.Runtime;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>
/// Debian's dnsmasq, started by a test inside a namespace it made (usually the world of an <see cref="AgentAndWorld"/>),
/// answering only from a hosts file with a short TTL; <see cref="SetHosts"/> rewrites the file and SIGHUPs it.
/// Stopped (SIGKILL) on dispose. <c>--keep-in-foreground</c>, not <c>--no-daemon</c>: in debug mode dnsmasq serves
/// a TCP connection inline and answers nothing else until the client closes it, and DnsClient keeps the TCP
/// connection of a truncated answer open for the next one.
/// </summary>
public sealed class Dnsmasq : IDisposable
{
    public const string Binary = "/usr/sbin/dnsmasq";

    private readonly Process _process;
    private readonly string _directory;
    private readonly string _hostsFile;

    public Dnsmasq(TestNamespace ns, string listenAddress, int ttlSeconds, params (string Name, string Address)[] hosts)
    {
        Address = IPAddress.Parse(listenAddress);
        _directory = Directory.CreateTempSubdirectory("netlinkfence-dnsmasq-").FullName;
        _hostsFile = Path.Combine(_directory, "hosts");
        WriteHosts(hosts);
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in (string[])["netns", "exec", ns.Name, Binary, "--keep-in-foreground", "--log-facility=-", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
            $"--addn-hosts={_hostsFile}", $"--local-ttl={ttlSeconds}", "--port=53", "--bind-interfaces", $"--listen-address={listenAddress}",
            "--user=root", "--pid-file=", "--edns-packet-max=1232"])
            start.ArgumentList.Add(argument);
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (Log) Log.Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>What dnsmasq printed (its start-up lines, errors).</summary>
    public List<string> Log { get; } = [];

    public IPAddress Address { get; }

    public IPEndPoint Endpoint => new(Address, 53);

    /// <summary>Waits until it answers <paramref name="name"/> from inside <paramref name="from"/> (at most 10 s).</summary>
    public void WaitUntilAnswering(TestNamespace from, string name)
    {
        var resolver = new DnsHostResolver([Endpoint], from.Name, TimeSpan.FromMilliseconds(300));
        for (int i = 0; i < 50; i++)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"dnsmasq exited ({_process.ExitCode}): {string.Join(" | ", Log)}");
            if (resolver.LookupAsync(name, CancellationToken.None).GetAwaiter().GetResult().Addresses.Count > 0)
                return;
            Thread.Sleep(200);
        }
        throw new TimeoutException($"dnsmasq did not answer {name} within 10 s: {string.Join(" | ", Log)}");
    }

    /// <summary>Replaces the hosts file and makes dnsmasq re-read it (SIGHUP).</summary>
    public void SetHosts(params (string Name, string Address)[] hosts)
    {
        WriteHosts(hosts);
        Signal("HUP");
    }

    /// <summary>Stops answering without going away (SIGSTOP): queries time out, as with a silent resolver.</summary>
    public void Pause() => Signal("STOP");

    public void Resume() => Signal("CONT");

    private void Signal(string signal) => TestNamespace.Run("kill", $"-{signal} {DnsmasqPid()}");

    /// <summary>`ip netns exec` execs dnsmasq in place, so the child's pid is dnsmasq's.</summary>
    private int DnsmasqPid() => _process.Id;

    private void WriteHosts((string Name, string Address)[] hosts)
    {
        string temporary = _hostsFile + ".new";
        File.WriteAllLines(temporary, hosts.Select(h => $"{h.Address} {h.Name}"));
        File.Move(temporary, _hostsFile, overwrite: true);
    }

    public void Dispose()
    {
        try
        {
            Signal("CONT");
            _process.Kill();
            _process.WaitForExit(5000);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
