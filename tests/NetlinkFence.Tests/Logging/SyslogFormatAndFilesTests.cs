using System.Net;
using System.Net.Sockets;
using System.Text;
using NetlinkFence.Logging;
using NetlinkFence.Logging.Syslog;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Logging;

/// <summary>Rootless: the RFC 5424/5425 bytes, and the CA file checks made before anything is sent.</summary>
public sealed class SyslogFormatAndFilesTests
{
    private static readonly SyslogTlsOptions Options = new() { Host = "192.0.2.1", CaFile = "/nonexistent", HostName = "host one" };

    [Fact]
    public void AFrameIsItsByteLengthASpaceAndAnRfc5424Message()
    {
        var formatter = new Rfc5424Formatter(Options, "0badcafe");
        var record = new DenialRecord
        {
            Time = new DateTimeOffset(2026, 12, 2, 6, 0, 1, 123, TimeSpan.Zero).AddTicks(4560),
            Family = AddressFamily.InterNetworkV6,
            Protocol = ProtocolType.Tcp,
            Destination = IPAddress.Parse("2001:db8::50"),
            DestinationPort = 8443,
            Uid = 1000,
            UserName = "sören",
            Prefix = "EGRESS-DENIED: ",
            Verdict = "drop",
        };
        byte[] frame = formatter.Denial(record, new DenialContext("quote \" bracket ] backslash \\", null, null), 42);
        string text = Encoding.UTF8.GetString(frame);
        int space = text.IndexOf(' ');
        Assert.Equal(frame.Length - space - 1, int.Parse(text[..space]));
        var message = SyslogMessage.Parse(text[(space + 1)..]);
        Assert.Equal(84, message.Priority);
        Assert.Equal("2026-12-02T06:00:01.123456Z", message.Timestamp);
        Assert.Equal("host_one", message.HostName); // no spaces in HOSTNAME
        Assert.Equal("DENIED", message.MessageId);
        var data = message.Data["denial@32473"];
        Assert.Equal("0badcafe", data["run"]);
        Assert.Equal("42", data["seq"]);
        Assert.Equal("ipv6", data["family"]);
        Assert.Equal("sören", data["user"]);
        Assert.Equal("quote \" bracket ] backslash \\", data["reason"]);
        Assert.False(data.ContainsKey("sport")); // unknown fields are left out, not sent as empty
        Assert.Contains("\"quote \\\" bracket \\] backslash \\\\\"", text);
        Assert.Contains("-> [2001:db8::50]:8443", message.Text);
        Assert.Contains("] \uFEFF", text); // a non-ASCII MSG is marked as UTF-8 (RFC 5424 6.4)
    }

    [Fact]
    public void AnAuditRecordIsANoticeAndADropReportCountsAndDates()
    {
        var formatter = new Rfc5424Formatter(Options with { Facility = SyslogFacility.Local3, EnterpriseNumber = 12345 }, "00000001");
        var audit = SyslogMessage.Parse(Frameless(formatter.Denial(new DenialRecord { Verdict = "accept", Prefix = "AUDIT: " }, null, 1)));
        Assert.Equal(19 * 8 + 5, audit.Priority);
        Assert.Equal("AUDIT", audit.MessageId);
        Assert.True(audit.Data.ContainsKey("denial@12345"));
        var report = SyslogMessage.Parse(Frameless(formatter.Dropped(7, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(1), 100, 2)));
        Assert.Equal("7", report.Data["dropped@12345"]["count"]);
        Assert.Equal("100", report.Data["dropped@12345"]["queue"]);
        Assert.StartsWith("7 denials were dropped", report.Text);
    }

    [Fact]
    public void ALostReportSaysHowManyWhereAndWhen()
    {
        var formatter = new Rfc5424Formatter(Options with { EnterpriseNumber = 12345 }, "00000001");
        var from = DateTimeOffset.Parse("2026-12-06T21:00:00Z");
        string[] where = ["kernel", "reader", "unbound"];
        foreach (var loss in Enum.GetValues<DenialLoss>())
        {
            var report = SyslogMessage.Parse(Frameless(formatter.Lost(9, loss, from, from.AddSeconds(30), 3)));
            Assert.Equal("LOST", report.MessageId);
            Assert.Equal(4, report.Priority % 8); // a warning, as the drop and unlogged reports
            var data = report.Data["lost@12345"];
            Assert.Equal(("9", where[(int)loss], "3"), (data["count"], data["where"], data["seq"]));
            Assert.Equal(("2026-12-06T21:00:00.000000Z", "2026-12-06T21:00:30.000000Z"), (data["first"], data["last"]));
            Assert.StartsWith("9 denials the kernel logged between 2026-12-06T21:00:00.000000Z and 2026-12-06T21:00:30.000000Z were lost before they could be forwarded: ", report.Text);
        }
    }

    [Fact]
    public void AHeartbeatSaysWhenTheNextComesAndWhatWasSent()
    {
        var formatter = new Rfc5424Formatter(Options with { Facility = SyslogFacility.Local3, EnterpriseNumber = 12345 }, "00000001");
        var heartbeat = SyslogMessage.Parse(Frameless(formatter.Heartbeat(TimeSpan.FromMinutes(5), sent: 42, dropped: 3, queued: 7, sequence: 9)));
        Assert.Equal(("HEARTBEAT", 19 * 8 + 6), (heartbeat.MessageId, heartbeat.Priority)); // informational: nothing is wrong
        var data = heartbeat.Data["heartbeat@12345"];
        Assert.Equal(("00000001", "9", "300", "42", "3", "7"), (data["run"], data["seq"], data["every"], data["sent"], data["dropped"], data["queued"]));
        Assert.StartsWith("netlinkfence forwards this host's denials; the next heartbeat comes within 300 s", heartbeat.Text);

        var vouching = SyslogMessage.Parse(Frameless(formatter.Heartbeat(TimeSpan.FromSeconds(10), 0, 0, 0, 1, [new("table", "netlinkfence"), new("present", "1")])));
        Assert.Equal(("netlinkfence", "1"), (vouching.Data["heartbeat@12345"]["table"], vouching.Data["heartbeat@12345"]["present"]));
        var onFallback = SyslogMessage.Parse(Frameless(formatter.Heartbeat(TimeSpan.FromSeconds(10), 0, 0, 0, 2, collector: "[2001:db8::21]:6514", fallback: true))).Data["heartbeat@12345"];
        Assert.Equal(("[2001:db8::21]:6514", "1"), (onFallback["collector"], onFallback["fallback"]));
        Assert.False(data.ContainsKey("collector")); // said by the forwarder, which knows where it writes
        Assert.All(["table", "x", new string('a', 32), "windows.open"], name => Assert.True(Rfc5424Formatter.IsSdName(name), name));
        Assert.All(["", "a b", "a=b", "a]", "a\"", new string('a', 33), "é"], name => Assert.False(Rfc5424Formatter.IsSdName(name), name));
    }

    [Fact]
    public void ControlCharactersNeverReachTheWire()
    {
        var formatter = new Rfc5424Formatter(Options, "00000001");
        string text = Frameless(formatter.Denial(new DenialRecord { Prefix = "A\nB\0C", UserName = "x\ny" }, null, 1));
        Assert.DoesNotContain('\n', text);
        Assert.DoesNotContain('\0', text);
    }

    [Fact]
    public async Task AMissingCaFileIsRefusedAtStartWithItsPathAndErrno()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nlf-no-such-ca-{Guid.NewGuid():N}.pem");
        var e = await Assert.ThrowsAsync<SyslogTlsException>(() => SyslogTlsForwarder.StartAsync(Options with { CaFile = path }));
        Assert.Equal($"cannot read the CA file {path}: No such file or directory (ENOENT)", e.Message);
        Assert.Equal("ENOENT", e.ErrnoName);
    }

    [Fact]
    public async Task ACaFileWithoutACertificateIsRefusedAtStart()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not a certificate\n");
            var e = await Assert.ThrowsAsync<SyslogTlsException>(() => SyslogTlsForwarder.StartAsync(Options with { CaFile = path }));
            Assert.Contains($"the CA file {path} holds no PEM certificate", e.Message);
            var directory = await Assert.ThrowsAsync<SyslogTlsException>(() => SyslogTlsForwarder.StartAsync(Options with { CaFile = Path.GetTempPath() }));
            Assert.Contains("not a regular file", directory.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The CLI: a policy whose CA file is missing is bad input (exit 2) naming the path and errno; nothing starts.</summary>
    [Fact]
    public void WatchForwardWithAMissingCaFileIsBadInput()
    {
        string directory = Directory.CreateTempSubdirectory("nlf-watch-ca-").FullName;
        try
        {
            string ca = Path.Combine(directory, "missing-ca.pem");
            string policy = Path.Combine(directory, "policy.yaml");
            File.WriteAllText(policy, $$"""
                version: 1
                log:
                  prefix: "EGRESS-DENIED: "
                  rate: 10/second
                  remote: { tls: "192.0.2.20:6514", ca: {{ca}} }
                egress:
                  allow:
                    - { name: syslog-tls, to: [192.0.2.20], tcp: [6514] }
                """);
            var (exit, _, stderr) = CliRunner.Run($"watch --policy {policy} --forward --count 1");
            Assert.Equal(2, exit);
            Assert.Contains($"cannot read the CA file {ca}: No such file or directory (ENOENT)", stderr);

            File.WriteAllText(policy, "version: 1\nlog: { prefix: \"X: \", rate: 1/second }\n");
            (exit, _, stderr) = CliRunner.Run($"watch --policy {policy} --forward --count 1");
            Assert.Equal(2, exit);
            Assert.Contains("has no log.remote", stderr);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Frameless(byte[] frame)
    {
        string text = Encoding.UTF8.GetString(frame);
        return text[(text.IndexOf(' ') + 1)..];
    }
}
