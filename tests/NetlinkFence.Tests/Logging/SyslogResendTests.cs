using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using NetlinkFence.Interop;
using NetlinkFence.Logging;
using NetlinkFence.Logging.Syslog;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Logging;

/// <summary>
/// At-least-once delivery, made deterministic: a scripted TLS collector (in a fresh namespace, on its loopback)
/// reads a few frames of the first connection, then resets it with the rest unread. Everything written on that
/// connection must arrive on the next one, with the same run and seq.
/// </summary>
public sealed class SyslogResendTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nlf-resend-").FullName;
    private readonly TestNamespace _ns = TestNamespace.Create();

    [Fact]
    public async Task MessagesWrittenOnABrokenConnectionAreSentAgainOnTheNext()
    {
        using var ca = new TestCertificates(_directory, "resend");
        var (certificatePath, keyPath) = ca.Issue("collector", "127.0.0.1", null, server: true);
        using var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        using var listener = NetworkNamespace.Run(_ns.Path, () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 6514));
            socket.Listen(4);
            return socket;
        });
        await using var forwarder = await SyslogTlsForwarder.StartAsync(new SyslogTlsOptions
        {
            Host = "127.0.0.1",
            CaFile = ca.CaFile,
            NetworkNamespace = _ns.Name,
            MinReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
        });
        // All queued before the first connection: they go out in one write on it.
        for (int n = 0; n < 200; n++)
            forwarder.Enqueue(new DenialRecord { Time = DateTimeOffset.UtcNow, Sequence = (uint)n, Prefix = "EGRESS-DENIED: " });

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var first = await ServeAsync(listener, certificate, stopAfter: 20, timeout.Token);
        Assert.Equal(20, first.Count);
        var second = await ServeAsync(listener, certificate, stopAfter: 200, timeout.Token);

        var all = first.Concat(second).Select(m => m.Data["denial@32473"]).ToList();
        Assert.Equal(Enumerable.Range(0, 200).Select(n => n.ToString(CultureInfo.InvariantCulture)).ToHashSet(), all.Select(d => d["nflogseq"]).ToHashSet());
        // The 20 read before the reset came again, identical in run and seq, so a collector can drop them.
        var firstIds = first.Select(m => (m.Data["denial@32473"]["run"], m.Data["denial@32473"]["seq"])).ToHashSet();
        Assert.Subset(second.Select(m => (m.Data["denial@32473"]["run"], m.Data["denial@32473"]["seq"])).ToHashSet(), firstIds);
        Assert.True(forwarder.Status.Resent >= 200, forwarder.Status.ToString());
        Assert.Contains("will be sent again", forwarder.Status.LastError);
    }

    /// <summary>Accepts one connection, reads <paramref name="stopAfter"/> octet-counted frames, then resets it (unread data and all).</summary>
    private static async Task<List<SyslogMessage>> ServeAsync(Socket listener, X509Certificate2 certificate, int stopAfter, CancellationToken cancellationToken)
    {
        using var client = await listener.AcceptAsync(cancellationToken);
        var messages = new List<SyslogMessage>();
        await using (var tls = new SslStream(new NetworkStream(client, ownsSocket: false)))
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, cancellationToken);
            var pending = new List<byte>();
            var buffer = new byte[4096];
            while (messages.Count < stopAfter)
            {
                int read = await tls.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                    break;
                pending.AddRange(buffer.AsSpan(0, read));
                while (messages.Count < stopAfter && TryFrame(pending, out string? message))
                    messages.Add(SyslogMessage.Parse(message!));
            }
        }
        client.LingerState = new LingerOption(true, 0); // close = RST: what was not read is gone
        client.Close();
        return messages;
    }

    private static bool TryFrame(List<byte> pending, out string? message)
    {
        message = null;
        int space = pending.IndexOf((byte)' ');
        if (space < 0)
            return false;
        int length = int.Parse(Encoding.ASCII.GetString(pending.GetRange(0, space).ToArray()), CultureInfo.InvariantCulture);
        if (pending.Count < space + 1 + length)
            return false;
        message = Encoding.UTF8.GetString(pending.GetRange(space + 1, length).ToArray());
        pending.RemoveRange(0, space + 1 + length);
        return true;
    }

    public void Dispose()
    {
        _ns.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
