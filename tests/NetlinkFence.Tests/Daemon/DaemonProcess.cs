using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// <c>netlinkfence run</c> as a child process (stdin closed, as under systemd), with a NOTIFY_SOCKET the test listens
/// on: readiness is the daemon's own READY=1, never a sleep. Killed (SIGKILL) on dispose if still running.
/// </summary>
internal sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly Socket _notify;
    private readonly string? _notifyPath;
    private readonly StringBuilder _stderr = new();
    private readonly List<string> _notifications = [];

    private DaemonProcess(Process process, Socket notify, string? notifyPath)
    {
        _process = process;
        _notify = notify;
        _notifyPath = notifyPath;
    }

    public int Pid => _process.Id;

    /// <summary>Everything the daemon wrote to stderr so far (its log).</summary>
    public string Log
    {
        get
        {
            lock (_stderr)
                return _stderr.ToString();
        }
    }

    /// <summary>The sd_notify datagrams received so far.</summary>
    public IReadOnlyList<string> Notifications
    {
        get
        {
            lock (_notifications)
                return _notifications.ToList();
        }
    }

    /// <summary>Starts <c>run POLICY --netns NS</c>; <paramref name="abstractNotify"/> names the notify socket '@...' (abstract).</summary>
    public static DaemonProcess Start(string policyPath, TestNamespace ns, string extraArguments = "", bool abstractNotify = false) =>
        Launch(new ProcessStartInfo("dotnet", $"{CliRunner.CliPath} run {policyPath} --netns {ns.Name} {extraArguments}"), abstractNotify);

    /// <summary>
    /// Starts <c>run POLICY</c> through <paramref name="wrapper"/>, a shell command line that ends by exec'ing the
    /// command it is given as "$@" (so the process is the daemon: signals and the exit code are its own).
    /// </summary>
    public static DaemonProcess StartWrapped(string wrapper, string policyPath) =>
        Launch(new ProcessStartInfo("sh") { ArgumentList = { "-c", wrapper, "wrapper", "dotnet", CliRunner.CliPath, "run", policyPath } }, abstractNotify: false);

    private static DaemonProcess Launch(ProcessStartInfo start, bool abstractNotify)
    {
        var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        string name = $"nlf-notify-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40];
        string? path = abstractNotify ? null : Path.Combine(Path.GetTempPath(), name);
        notify.Bind(new UnixDomainSocketEndPoint(path ?? "\0" + name));
        start.RedirectStandardInput = start.RedirectStandardOutput = start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.Environment["NOTIFY_SOCKET"] = path ?? "@" + name;
        var process = Process.Start(start)!;
        process.StandardInput.Close();
        var daemon = new DaemonProcess(process, notify, path);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                lock (daemon._stderr)
                    daemon._stderr.AppendLine(e.Data);
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                lock (daemon._stderr)
                    daemon._stderr.AppendLine(e.Data);
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _ = daemon.ReceiveNotificationsAsync();
        return daemon;
    }

    private async Task ReceiveNotificationsAsync()
    {
        byte[] buffer = new byte[4096];
        try
        {
            while (true)
            {
                int n = await _notify.ReceiveAsync(buffer, SocketFlags.None);
                lock (_notifications)
                    _notifications.Add(Encoding.UTF8.GetString(buffer, 0, n));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Waits for READY=1 (generous: a loaded CI machine starts dotnet slowly), then for the log line the daemon writes
    /// just before it (its control socket): READY comes over another socket than the log, which the thread pool reads,
    /// so only then is everything the start logged in <see cref="Log"/>. Fails with the log if it exits or never comes.
    /// </summary>
    public void WaitReady(double seconds = 60)
    {
        bool Ready() => Notifications.Any(n => n.Split('\n').Contains("READY=1"));
        // A daemon that exited will not notify: fail at once with its log, not after the whole wait.
        if (!WaitUntil(() => Ready() || _process.HasExited, seconds) || !Ready())
            throw new InvalidOperationException($"the daemon did not notify READY=1 within {seconds}s (exited: {_process.HasExited}). Log:\n{Log}");
        if (!WaitForLog("control socket ", seconds))
            throw new InvalidOperationException($"the daemon notified READY=1 but its log never named its control socket within {seconds}s. Log:\n{Log}");
    }

    /// <summary>Waits until the log contains <paramref name="text"/> <paramref name="count"/> times.</summary>
    public bool WaitForLog(string text, double seconds = 30, int count = 1) =>
        WaitUntil(() => Occurrences(Log, text) >= count, seconds);

    public void Signal(string signal) => TestNamespace.Run("kill", $"-{signal} {Pid}");

    /// <summary>Waits for the process to end; its exit code, or null if it is still running after <paramref name="seconds"/>.</summary>
    public int? WaitExit(double seconds = 30)
    {
        if (!_process.WaitForExit(TimeSpan.FromSeconds(seconds)))
            return null;
        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    public bool HasExited => _process.HasExited;

    public static bool WaitUntil(Func<bool> condition, double seconds) => Poll.Until(condition, seconds, everyMilliseconds: 20);

    private static int Occurrences(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
            count++;
        return count;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
        _notify.Dispose();
        if (_notifyPath is not null)
            File.Delete(_notifyPath);
    }
}
