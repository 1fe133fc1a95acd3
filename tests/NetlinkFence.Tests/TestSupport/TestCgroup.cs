using System.Diagnostics;
using NetlinkFence.Runtime;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>
/// A cgroup directory the test makes under the host's cgroup2 mount (<c>/nlf-test-XXXX/...</c>), and clients that send
/// from inside it: a shell moves itself into the cgroup (writes its pid to cgroup.procs) and then execs into the
/// agent's network namespace, so its socket belongs to that cgroup. Removed (deepest first) on dispose.
/// </summary>
/// <remarks>
/// <see cref="Create"/> and the indexer give a child cgroup as a <see cref="Child"/> that starts long-running
/// processes in it (killed, with anything left in the cgroups, on dispose).
/// </remarks>
public sealed class TestCgroup : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly List<string> _made = [];
    private readonly List<Process> _processes = [];

    /// <summary>Makes the test's cgroup and a child directory for each name (e.g. <c>a</c>, <c>b</c>, <c>foo.service</c>).</summary>
    public static TestCgroup Create(params string[] children)
    {
        var cgroups = new TestCgroup();
        foreach (string child in children)
            cgroups.Make(child);
        return cgroups;
    }

    /// <summary>The child <c>Root/name</c>.</summary>
    public Child this[string name] => new(this, Root + "/" + name);

    /// <summary>A cgroup under the test's own: its path, id, and processes started in it.</summary>
    public sealed class Child(TestCgroup owner, string path)
    {
        /// <summary>The path from the cgroup2 root (<c>/nlf-test-0123456789/a</c>), as the kernel and netlinkfence name it.</summary>
        public string Path { get; } = path;

        /// <summary>The directory.</summary>
        public string FullPath => owner.Hierarchy.DirectoryOf(Path);

        /// <summary>The cgroup id: the directory's inode number, as stat(1) reads it (not through the code under test).</summary>
        public ulong Id => ulong.Parse(TestNamespace.Run("stat", $"-c %i {FullPath}").Trim(), System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>
        /// Starts <paramref name="command"/> (a shell command line) in this cgroup: a shell writes its pid to
        /// <c>cgroup.procs</c> and then execs the command, so every socket the command makes belongs here. It runs
        /// until it ends or the owner's dispose kills it.
        /// </summary>
        public Process Start(string command)
        {
            var start = new ProcessStartInfo("sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add($"echo $$ > {FullPath}/cgroup.procs && exec {command}");
            var process = Process.Start(start)!;
            owner._processes.Add(process);
            return process;
        }

        /// <summary>Runs <paramref name="command"/> in this cgroup to its end and returns its exit code.</summary>
        public int Run(string command)
        {
            var process = Start(command);
            if (!process.WaitForExit(Patience))
                throw new TimeoutException($"'{command}' did not end within {Patience.TotalSeconds} s");
            return process.ExitCode;
        }
    }

    public TestCgroup()
    {
        Hierarchy = CgroupHierarchy.Find() ?? throw new InvalidOperationException("no cgroup2 hierarchy is mounted (no cgroup2 line in /proc/self/mountinfo)");
        Root = "/nlf-test-" + Guid.NewGuid().ToString("n")[..10];
        Make(Root);
    }

    public CgroupHierarchy Hierarchy { get; }

    /// <summary>This test's cgroup, from the cgroup2 root: <c>/nlf-test-XXXX</c>.</summary>
    public string Root { get; }

    /// <summary>Makes <c>Root/relative</c> (and its parents); returns its path from the cgroup2 root.</summary>
    public string Make(string relative)
    {
        string path = relative.StartsWith(Root, StringComparison.Ordinal) ? relative : Root + "/" + relative.TrimStart('/');
        string current = "";
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current += "/" + part;
            if (!Directory.Exists(Hierarchy.DirectoryOf(current)))
            {
                Directory.CreateDirectory(Hierarchy.DirectoryOf(current));
                _made.Add(current);
            }
        }
        return path;
    }

    /// <summary>Removes <paramref name="path"/> (no process may be in it), as a unit's stop does.</summary>
    public void Remove(string path)
    {
        Directory.Delete(Hierarchy.DirectoryOf(path));
        _made.Remove(path);
    }

    /// <summary>
    /// How long a connection that must succeed is given: a bash start, the connect and the listener's greeting (sent from
    /// the test process's thread pool) on a loaded 2-core runner. Denied flows keep the short default: they are dropped,
    /// so each one waits its whole timeout.
    /// </summary>
    public const int ExpectedThroughSeconds = 10;

    /// <summary>
    /// Connects to <paramref name="address"/>:<paramref name="port"/> (TCP) from a process in cgroup <paramref name="cgroup"/>
    /// (null: the test's own) running as <paramref name="uid"/> (null: root), inside network namespace
    /// <paramref name="netns"/>; true when the listener's 5-byte greeting came back.
    /// </summary>
    public bool TcpReachable(TestNamespace netns, string? cgroup, uint? uid, string address, int port, int timeoutSeconds = 2)
    {
        string join = cgroup is null ? "" : $"echo $$ > {Hierarchy.DirectoryOf(cgroup)}/cgroup.procs && ";
        string user = uid is { } u ? $"setpriv --reuid={u} --regid={u} --clear-groups " : "";
        string connect = $"exec 3<>/dev/tcp/{address}/{port} && head -c5 <&3";
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"{join}exec nsenter --net={netns.Path} {user}timeout {timeoutSeconds} bash -c '{connect}'");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds + 20)))
        {
            process.Kill(entireProcessTree: true);
            return false;
        }
        return process.ExitCode == 0 && stdout.Result == "hello";
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            process.WaitForExit(Patience);
            process.Dispose();
        }
        for (int i = _made.Count - 1; i >= 0; i--)
        {
            string kill = Hierarchy.DirectoryOf(_made[i]) + "/cgroup.kill";
            if (File.Exists(kill))
                File.WriteAllText(kill, "1"); // whatever the commands left behind (Linux 5.14+)
            // A client that is still exiting keeps its cgroup busy for a moment: retry, bounded.
            for (int attempt = 0; attempt < 50; attempt++)
            {
                try
                {
                    Directory.Delete(Hierarchy.DirectoryOf(_made[i]));
                    break;
                }
                catch (IOException) when (attempt < 49)
                {
                    Thread.Sleep(100);
                }
                catch (DirectoryNotFoundException)
                {
                    break;
                }
            }
        }
    }
}
