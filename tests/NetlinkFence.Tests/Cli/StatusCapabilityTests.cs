using System.Diagnostics;
using System.Text.Json;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Cli;

/// <summary>
/// <c>status</c> names the processes of the guarded namespace that can get around the table (CAP_NET_RAW: packet
/// sockets) or change it (CAP_NET_ADMIN), read from /proc with each process's user namespace checked against the
/// one that owns the network namespace. Real processes in a fresh namespace, with their capabilities set by
/// util-linux's setpriv and unshare.
/// </summary>
public sealed class StatusCapabilityTests : IDisposable
{
    private const string Policy = "version: 1\negress:\n  allow:\n    - { name: control, to: [203.0.113.50], tcp: [443] }\n";

    private readonly string _policy = TestScratch.PathFor("nlf-status-caps", ".yaml");
    private readonly List<Process> _processes = [];

    public StatusCapabilityTests() => File.WriteAllText(_policy, Policy);

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Kill();
            process.WaitForExit();
            process.Dispose();
        }
        File.Delete(_policy);
    }

    [Fact]
    public void Status_names_the_processes_whose_capabilities_count_in_the_namespace()
    {
        using var ns = TestNamespace.Create();
        using var other = TestNamespace.Create();
        var apply = CliRunner.Run($"apply {_policy} --netns {ns.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr);

        var before = CliRunner.Run($"status --policy {_policy} --netns {ns.Name}");
        Assert.True(before.ExitCode == 0, before.Stderr);
        Assert.Contains("\npacket sockets: no process here holds CAP_NET_RAW, so none can send or receive around the table through packet sockets (AF_PACKET)\n", before.Stdout);
        Assert.Contains("\nnetwork administration: no process here holds CAP_NET_ADMIN\n", before.Stdout);

        int root = Sleep(ns, "");
        int rawOnly = Sleep(ns, "setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps +net_raw --ambient-caps +net_raw");
        int none = Sleep(ns, "setpriv --reuid 65534 --regid 65534 --clear-groups");
        // Every capability, but in a user namespace of its own: none of them count in a network namespace it does not own.
        int ownUserNamespace = Sleep(ns, "unshare --user --map-root-user");
        int elsewhere = Sleep(other, "");

        var status = CliRunner.Run($"status --policy {_policy} --netns {ns.Name}");
        Assert.True(status.ExitCode == 0, status.Stderr);
        string raw = Line(status.Stdout, "packet sockets: ");
        Assert.StartsWith("packet sockets: 2 processes here hold CAP_NET_RAW and can send and receive around the table through packet sockets (AF_PACKET)", raw);
        Assert.Contains($"sleep (pid {root}, uid 0)", raw);
        Assert.Contains($"sleep (pid {rawOnly}, uid 65534)", raw);
        Assert.Equal($"network administration: 1 process here holds CAP_NET_ADMIN and can change routes, interfaces and firewall tables, this one included: sleep (pid {root}, uid 0)",
            Line(status.Stdout, "network administration: "));
        foreach (int pid in new[] { none, ownUserNamespace, elsewhere })
            Assert.DoesNotContain($"pid {pid},", status.Stdout);

        var json = CliRunner.Run($"status --policy {_policy} --netns {ns.Name} --output json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        using var document = JsonDocument.Parse(json.Stdout);
        var listed = document.RootElement.GetProperty("capable_processes").EnumerateArray()
            .Select(p => (Pid: p.GetProperty("pid").GetInt32(), Command: p.GetProperty("command").GetString(), Uid: p.GetProperty("uid").GetInt32(),
                Raw: p.GetProperty("cap_net_raw").GetBoolean(), Admin: p.GetProperty("cap_net_admin").GetBoolean(), Daemon: p.GetProperty("daemon").GetBoolean()))
            .OrderBy(p => p.Pid).ToList();
        Assert.Equal(new[] { (root, "sleep", 0, true, true, false), (rawOnly, "sleep", 65534, true, false, false) }.OrderBy(p => p.Item1).ToList(),
            listed.Select(p => (p.Pid, p.Command!, p.Uid, p.Raw, p.Admin, p.Daemon)).ToList());
    }

    [Fact]
    public void Processes_status_may_not_read_are_counted_and_said_never_taken_as_harmless()
    {
        using var ns = TestNamespace.Create();
        var apply = CliRunner.Run($"apply {_policy} --netns {ns.Name}");
        Assert.True(apply.ExitCode == 0, apply.Stderr);
        int root = Sleep(ns, "");
        // status run inside the namespace as root with CAP_NET_ADMIN alone: ptrace's read check refuses it the
        // namespaces of the sleeper, which has every capability.
        string run = $"netns exec {ns.Name} setpriv --bounding-set=-all,+net_admin env DOTNET_NOLOGO=1 dotnet {CliRunner.CliPath} status --policy {_policy}";
        var text = TestNamespace.TryRun("ip", run);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Matches(@"^capabilities: \d+ process(es)? could not be read \(reading another user's or a more capable process's namespaces takes CAP_SYS_PTRACE\), "
            + "so the two lines below may leave some out: run status as root with every capability$", Line(text.Stdout, "capabilities: "));
        Assert.DoesNotContain($"pid {root},", text.Stdout);
        var json = TestNamespace.TryRun("ip", run + " --output json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        using var document = JsonDocument.Parse(json.Stdout);
        Assert.True(document.RootElement.GetProperty("unreadable_processes").GetInt32() >= 1, json.Stdout);
        // Root with every capability reads the sleeper and names it.
        Assert.Contains($"sleep (pid {root}, uid 0)", CliRunner.Run($"status --policy {_policy} --netns {ns.Name}").Stdout);
    }

    [Fact]
    public void The_daemon_is_named_apart_and_a_long_list_is_cut_in_text()
    {
        var processes = Enumerable.Range(100, 10).Select(pid => new NetlinkFence.Cli.CapableProcess(pid, "agent", 0, NetRaw: true, NetAdmin: pid == 100))
            .Append(new NetlinkFence.Cli.CapableProcess(7, "netlinkfence", 0, NetRaw: false, NetAdmin: true)).ToList();
        var holder = new NetlinkFence.Cli.TableHolder(Owned: true, OwnerPort: 42, new NetlinkFence.Cli.RunningDaemon(7, "owner", "/etc/netlinkfence/policy.yaml"), AppliedBy: null);
        var lines = new NetlinkFence.Cli.CapabilityReport(processes, 0, holder).Lines().ToList();
        Assert.Equal("packet sockets: 10 processes here hold CAP_NET_RAW and can send and receive around the table through packet sockets (AF_PACKET), "
            + "which no nftables table sees: " + string.Join(", ", Enumerable.Range(100, 8).Select(pid => $"agent (pid {pid}, uid 0)"))
            + " and 2 more (--output json lists them all); drop CAP_NET_RAW where it is not needed (docker run --cap-drop NET_RAW; systemd CapabilityBoundingSet=~CAP_NET_RAW)", lines[0]);
        Assert.Equal("network administration: 1 process besides the daemon here holds CAP_NET_ADMIN and can change routes, interfaces and firewall tables "
            + "(not this one while its owner holds it): agent (pid 100, uid 0)", lines[1]);
        var daemonOnly = new NetlinkFence.Cli.CapabilityReport([processes[^1]], 0, holder).Lines().ToList();
        Assert.Equal("network administration: no process here but the daemon holds CAP_NET_ADMIN", daemonOnly[1]);
    }

    [Fact]
    public void Kernel_threads_are_left_out_and_the_callers_own_namespace_is_read_too()
    {
        // Read only: the test's own namespace's /proc, no table. Kernel threads live in it with every capability
        // (kthreadd and its children); they open no sockets for anyone, so they are not listed.
        using var current = NetlinkFence.Interop.NetworkNamespaceHandle.OpenCurrent();
        var (capable, _) = NetlinkFence.Cli.CapableProcesses.In(current);
        var listed = capable.Select(p => p.Pid).ToHashSet();
        var kernelThreads = Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!))
            .Where(IsKernelThread).ToList();
        Assert.NotEmpty(kernelThreads);
        Assert.Empty(kernelThreads.Where(listed.Contains));
        // The test host's parent (`dotnet test`, root with every capability, in this namespace) is listed; the caller is not.
        int parent = int.Parse(File.ReadAllText($"/proc/{Environment.ProcessId}/stat").Split(')')[^1].Split(' ')[2]);
        Assert.Contains(parent, listed);
        Assert.DoesNotContain(Environment.ProcessId, listed);
    }

    private static bool IsKernelThread(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return (uint.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[6]) & 0x00200000) != 0;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Starts <c>sleep</c> in <paramref name="ns"/> through <paramref name="wrapper"/> and waits until it runs (each execs in place, so the pid stays).</summary>
    private int Sleep(TestNamespace ns, string wrapper)
    {
        var process = Process.Start(new ProcessStartInfo("ip", $"netns exec {ns.Name} {wrapper} sleep 300".Replace("  ", " ")) { UseShellExecute = false })!;
        _processes.Add(process);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (File.ReadAllText($"/proc/{process.Id}/comm").Trim() != "sleep")
        {
            Assert.True(DateTime.UtcNow < deadline, $"`{wrapper} sleep` in {ns.Name} did not start within 30 s");
            Thread.Sleep(20);
        }
        return process.Id;
    }

    private static string Line(string output, string start) =>
        output.Split('\n').SingleOrDefault(l => l.StartsWith(start, StringComparison.Ordinal)) ?? throw new Xunit.Sdk.XunitException($"no line '{start}...' in:\n{output}");
}
