using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using NetlinkFence.Nftables;

namespace NetlinkFence.Logging.Syslog;

/// <summary>One TLS connection to the collector: connect, verify its certificate, write frames, notice when it ends.</summary>
internal sealed class CollectorConnection : IAsyncDisposable
{
    /// <summary>Linux TCP_USER_TIMEOUT (include/uapi/linux/tcp.h): abort when sent data stays unacknowledged this long.</summary>
    private const int TcpUserTimeout = 18;

    private readonly SslStream _stream;
    private bool _closed; // close_notify sent

    private CollectorConnection(SslStream stream, DateTimeOffset? collectorExpires, DateTimeOffset? clientExpires) =>
        (_stream, CollectorCertificateExpires, ClientCertificateExpires) = (stream, collectorExpires, clientExpires);

    /// <summary>When the collector's certificate, verified on this connection, stops being valid.</summary>
    public DateTimeOffset? CollectorCertificateExpires { get; }

    /// <summary>When the client certificate presented on this connection stops being valid; null without one.</summary>
    public DateTimeOffset? ClientCertificateExpires { get; }

    public static async Task<CollectorConnection> OpenAsync(SyslogTlsOptions options, CancellationToken cancellationToken)
    {
        // Files are read on every attempt: a renewed CA or client certificate is used without a restart.
        var trust = CollectorTrust.Load(options.CaFile);
        using var client = options.ClientCertificateFile is { } certificateFile
            ? CollectorTrust.LoadClientCertificate(certificateFile, options.ClientKeyFile!) : null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        Socket? socket = null;
        try
        {
            socket = await ConnectAsync(options, timeout.Token).ConfigureAwait(false);
            var stream = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
            socket = null;
            string? refusal = null;
            var trustCheck = new RemoteCertificateValidationCallback((_, certificate, chain, _) =>
                (refusal = trust.Check(certificate, chain, options.Host, options.Endpoint)) is null);
            try
            {
                await stream.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = options.Host,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = trustCheck,
                    ClientCertificateContext = client is null ? null : SslStreamCertificateContext.Create(client, null, offline: true),
                }, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AuthenticationException or IOException)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                throw refusal is not null ? new SyslogTlsException(refusal, null, e)
                    : new SyslogTlsException($"TLS handshake with {options.Endpoint} failed: {Innermost(e)}", null, e);
            }
            catch
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            return new CollectorConnection(stream, stream.RemoteCertificate is X509Certificate2 remote ? new DateTimeOffset(remote.NotAfter.ToUniversalTime(), TimeSpan.Zero) : null,
                client is null ? null : new DateTimeOffset(client.NotAfter.ToUniversalTime(), TimeSpan.Zero));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new SyslogTlsException($"no connection to {options.Endpoint} within {options.ConnectTimeout.TotalSeconds:0.#} s");
        }
        finally
        {
            socket?.Dispose();
        }
    }

    private static async Task<Socket> ConnectAsync(SyslogTlsOptions options, CancellationToken cancellationToken)
    {
        IPAddress[] addresses = IPAddress.TryParse(options.Host, out var address) ? [address]
            : await Dns.GetHostAddressesAsync(options.Host, cancellationToken).ConfigureAwait(false);
        string? path = new NftablesConnectionOptions { NetworkNamespace = options.NetworkNamespace }.NamespacePath;
        SocketException? last = null;
        foreach (var candidate in addresses)
        {
            // A socket belongs to the namespace it was created in; connect and I/O then happen there from any thread.
            var socket = path is null ? Create(candidate, options) : Interop.NetworkNamespace.Run(path, () => Create(candidate, options));
            try
            {
                await socket.ConnectAsync(candidate, options.Port, cancellationToken).ConfigureAwait(false);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw new SyslogTlsException($"cannot connect to {options.Endpoint}: {last?.SocketErrorCode.ToString() ?? "no address"} ({last?.Message ?? "the name has no address"})", null, last);
    }

    private static Socket Create(IPAddress address, SyslogTlsOptions options)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        // A peer that vanished without a FIN is noticed: keepalive probes while idle, and data unacknowledged for
        // two thirds of the resend window aborts the connection, so a forgotten record was at least acknowledged.
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 30);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 10);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
        int userTimeout = (int)Math.Clamp(options.ResendWindow.TotalMilliseconds * 2 / 3, 1000, int.MaxValue);
        socket.SetRawSocketOption((int)SocketOptionLevel.Tcp, TcpUserTimeout, BitConverter.GetBytes(userTimeout));
        return socket;
    }

    /// <summary>Writes <paramref name="frames"/> and flushes; only then are they sent.</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> frames, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(frames, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Completes (with an exception saying why) when the collector ends the connection: a syslog collector never
    /// sends application data, so any end of the read side (close_notify, EOF, reset) means the connection is gone.
    /// </summary>
    public async Task WatchAsync(string endpoint, CancellationToken cancellationToken)
    {
        var buffer = new byte[256];
        while (true)
        {
            int read;
            try
            {
                read = await _stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                throw new CollectorConnectionLostException($"connection to {endpoint} broken: {Innermost(e)}", e);
            }
            if (read == 0)
                throw new CollectorConnectionLostException($"{endpoint} closed the connection");
        }
    }

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null)
            e = e.InnerException;
        return e.Message;
    }

    /// <summary>Sends TLS close_notify (at most 2 s): nothing more is written; the collector closes its side once it has read everything before it.</summary>
    public async Task CloseAsync()
    {
        if (_closed)
            return;
        _closed = true;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _stream.ShutdownAsync().WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException or NotSupportedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
