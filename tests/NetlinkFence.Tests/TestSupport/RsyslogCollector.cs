using System.Diagnostics;
using System.Text;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>
/// Debian's rsyslogd as a syslog-over-TLS collector (imtcp, gtls stream driver) inside a test's namespace, with its
/// own config, pid file, work directory and output file under <paramref name="directory"/>. Messages from
/// app-name netlinkfence are written in RFC 5424 form (RSYSLOG_SyslogProtocol23Format), one per line.
/// </summary>
public sealed class RsyslogCollector(TestNamespace ns, string directory, string address, int port, string caFile, string certificateFile, string keyFile,
    string? permittedPeer = null) : IDisposable
{
    private Process? _process;
    private readonly StringBuilder _console = new();

    public string OutputFile { get; } = Path.Combine(directory, "received.log");

    public string Endpoint => $"{address}:{port}";

    public void Start()
    {
        string work = Path.Combine(directory, "rsyslog-work");
        System.IO.Directory.CreateDirectory(work);
        string config = Path.Combine(directory, "rsyslog.conf");
        string authMode = permittedPeer is null ? "anon" : "x509/name";
        string peers = permittedPeer is null ? "" : $" PermittedPeer=[\"{permittedPeer}\"]";
        File.WriteAllText(config, $$"""
            global(workDirectory="{{work}}" maxMessageSize="64k"
                   DefaultNetstreamDriver="gtls"
                   DefaultNetstreamDriverCAFile="{{caFile}}"
                   DefaultNetstreamDriverCertFile="{{certificateFile}}"
                   DefaultNetstreamDriverKeyFile="{{keyFile}}")
            module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="{{authMode}}"{{peers}})
            input(type="imtcp" address="{{address}}" port="{{port}}")
            if $app-name == "netlinkfence" then {
                action(type="omfile" file="{{OutputFile}}" template="RSYSLOG_SyslogProtocol23Format")
                stop
            }
            action(type="omfile" file="{{Path.Combine(directory, "rsyslog-internal.log")}}")

            """);
        var start = new ProcessStartInfo("ip", $"netns exec {ns.Name} /usr/sbin/rsyslogd -n -f {config} -i {Path.Combine(directory, "rsyslogd.pid")}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (_console) _console.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_console) _console.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        // Wait for the listening socket (rsyslog may start slowly on a loaded machine): poll, generously bounded.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"rsyslogd exited with {process.ExitCode}: {Console}");
            if (ns.Exec("ss", $"-Hltn src {address} sport = :{port}").Trim().Length > 0)
                return;
            if (deadline.Elapsed > TimeSpan.FromSeconds(90))
                throw new TimeoutException($"rsyslogd is not listening on {Endpoint} after 90 s: {Console}");
            Thread.Sleep(50);
        }
    }

    /// <summary>Stops rsyslogd with SIGTERM and waits until it has exited (and so closed its connections and file).</summary>
    public void Stop()
    {
        if (_process is not { HasExited: false } process)
            return;
        TestNamespace.TryRun("kill", $"-TERM {process.Id}");
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill();
            process.WaitForExit();
        }
        process.Dispose();
        _process = null;
    }

    public string Console
    {
        get
        {
            lock (_console)
                return _console.ToString();
        }
    }

    /// <summary>The messages received so far, parsed: whole lines only (rsyslog may be writing the last one).</summary>
    public List<SyslogMessage> Received()
    {
        if (!File.Exists(OutputFile))
            return [];
        string text = File.ReadAllText(OutputFile);
        int end = text.LastIndexOf('\n');
        return end < 0 ? [] : text[..end].Split('\n').Where(l => l.Length > 0).Select(SyslogMessage.Parse).ToList();
    }

    /// <summary>Polls the output file until <paramref name="done"/> holds for what was received (bounded generously).</summary>
    public List<SyslogMessage> WaitFor(Func<List<SyslogMessage>, bool> done, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var received = Received(); // a line that does not parse is a finding, not a line being written
            if (done(received))
                return received;
            if (deadline.Elapsed > (timeout ?? TimeSpan.FromMinutes(2)))
                return received;
            Thread.Sleep(100);
        }
    }

    public void Dispose() => Stop();
}
