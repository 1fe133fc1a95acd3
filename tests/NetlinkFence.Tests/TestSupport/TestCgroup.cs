using System.Diagnostics;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>
/// A cgroup v2 directory made by a test under the cgroup2 mount (unified, or hybrid's <c>/sys/fs/cgroup/unified</c>):
/// a directory of the test's own (<c>/nlf-test-RANDOM</c>) with children, and the processes the test starts in them.
/// Dispose kills them (and anything left in the cgroups, <c>cgroup.kill</c>) and removes the directories.
/// </summary>
internal sealed class TestCgroup : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly List<Process> _processes = [];
    private readonly List<TestCgroup> _children = [];

    /// <summary>Makes <c>/nlf-test-RANDOM</c> and a child directory for each name (e.g. <c>a</c>, <c>b</c>, <c>foo.service</c>).</summary>
    public static TestCgroup Create(params string[] children)
    {
        var root = new TestCgroup("/nlf-test-" + Guid.NewGuid().ToString("N")[..10]);
        try
        {
            foreach (string child in children)
                root._children.Add(new TestCgroup(root.Path + "/" + child));
        }
        catch
        {
            root.Dispose();
            throw;
        }
        return root;
    }

    private TestCgroup(string path)
    {
        Path = path;
        Directory.CreateDirectory(FullPath);
    }

    /// <summary>The child named <paramref name="name"/>.</summary>
    public TestCgroup this[string name] => _children.Single(c => c.Path.EndsWith("/" + name, StringComparison.Ordinal));

    /// <summary>The cgroup2 mount point, from /proc/self/mountinfo.</summary>
    public static string Mount { get; } = File.ReadLines("/proc/self/mountinfo")
        .Select(l => l.Split(' '))
        .Where(f => Array.IndexOf(f, "-") is > 0 and var dash && dash + 1 < f.Length && f[dash + 1] == "cgroup2")
        .Select(f => f[4]).FirstOrDefault() ?? throw new InvalidOperationException("no cgroup2 mount in /proc/self/mountinfo");

    /// <summary>The path under the mount (<c>/nlf-test-0123456789/a</c>), as the kernel and netlinkfence name it.</summary>
    public string Path { get; }

    /// <summary>The directory.</summary>
    public string FullPath => Mount + Path;

    /// <summary>The cgroup id: the directory's inode number (as stat(1) reads it).</summary>
    public ulong Id => ulong.Parse(TestNamespace.Run("stat", $"-c %i {FullPath}").Trim(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Starts <paramref name="command"/> (a shell command line) in this cgroup: a shell writes its pid to
    /// <c>cgroup.procs</c> and then execs the command, so every socket the command makes belongs to this cgroup.
    /// The process runs until it ends or Dispose kills it.
    /// </summary>
    public Process Start(string command)
    {
        var start = new ProcessStartInfo("sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"echo $$ > {FullPath}/cgroup.procs && exec {command}");
        var process = Process.Start(start)!;
        _processes.Add(process);
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

    public void Dispose()
    {
        foreach (var child in _children)
            child.Dispose();
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                    process.Kill(entireProcessTree: true);
                process.WaitForExit(Patience);
            }
            catch (InvalidOperationException)
            {
                // never started
            }
            process.Dispose();
        }
        if (File.Exists(FullPath + "/cgroup.kill"))
            File.WriteAllText(FullPath + "/cgroup.kill", "1"); // whatever the commands left behind
        // rmdir fails (EBUSY) while killed tasks are still leaving: bounded retries.
        var until = Stopwatch.StartNew();
        while (Directory.Exists(FullPath))
        {
            try
            {
                Directory.Delete(FullPath);
            }
            catch (IOException) when (until.Elapsed < Patience)
            {
                Thread.Sleep(50);
            }
        }
    }
}
