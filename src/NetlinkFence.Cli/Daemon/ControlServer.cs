using System.Runtime.InteropServices;
using System.Net.Sockets;
using System.Text.Json;

namespace NetlinkFence.Cli.Daemon;

/// <summary>The process at the other end of a control connection, as the kernel tells it (SO_PEERCRED).</summary>
internal readonly record struct Peer(int Pid, uint Uid)
{
    public override string ToString() => $"uid {Uid} (pid {Pid})";
}

/// <summary>
/// The daemon's control socket: a unix stream socket, mode 0600 in the root-only state directory, one JSON request
/// per connection (ended by a newline or by the client shutting down its side), one JSON response back. Whatever a
/// client sends (not JSON, too long, too slow) gets an error response or a closed connection; the daemon and its
/// table are unaffected.
/// </summary>
internal sealed class ControlServer : IAsyncDisposable
{
    /// <summary>The longest request read; anything longer is refused without being parsed.</summary>
    public const int MaxRequestBytes = 64 * 1024;

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private const int SolSocket = 1, SoPeerCred = 17; // <asm-generic/socket.h>

    private readonly Socket _listener;
    private readonly Func<ControlRequest, Peer, CancellationToken, Task<ControlResponse>> _handle;
    private readonly CancellationTokenSource _stop = new();
    private Task _accepting = Task.CompletedTask;

    private ControlServer(string path, Socket listener, Func<ControlRequest, Peer, CancellationToken, Task<ControlResponse>> handle)
    {
        Path = path;
        _listener = listener;
        _handle = handle;
    }

    public string Path { get; }

    /// <summary>Binds <paramref name="path"/> (a stale socket file there is replaced: the caller holds the daemon lock) and starts serving.</summary>
    public static ControlServer Start(string path, Func<ControlRequest, Peer, CancellationToken, Task<ControlResponse>> handle)
    {
        File.Delete(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            // 0600: only root talks to the daemon (the state directory is 0700 root as well, so there is no window).
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(16);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        var server = new ControlServer(path, listener, handle);
        server._accepting = server.AcceptLoopAsync();
        return server;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                Console.Error.WriteLine($"netlinkfence: control socket: accept failed: {e.Message}");
                await Task.Delay(100);
                continue;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            timeout.CancelAfter(RequestTimeout);
            try
            {
                var peer = PeerOf(client);
                var response = await ReadRequestAsync(client, timeout.Token) switch
                {
                    (null, var error) => ControlResponse.Error(error!),
                    (var request, _) => await HandleAsync(request!, peer, timeout.Token),
                };
                if (!response.Ok)
                    Console.Error.WriteLine($"netlinkfence: control request from {peer} refused: {response.Message}");
                await client.SendAsync(JsonSerializer.SerializeToUtf8Bytes(response, ControlJsonContext.Default.ControlResponse), SocketFlags.None, timeout.Token);
                client.Shutdown(SocketShutdown.Send);
                await DrainAsync(client, timeout.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // A client that went away or stalled: nothing to answer.
            }
        }
    }

    private async Task<ControlResponse> HandleAsync(ControlRequest request, Peer peer, CancellationToken cancellationToken)
    {
        try
        {
            return await _handle(request, peer, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var text = new StringWriter();
            int exit = ExitCodes.Report(e, text);
            return ControlResponse.Error(text.ToString().Trim().Replace("netlinkfence: ", ""), exit);
        }
    }

    /// <summary>Reads one request: up to a newline or the client's end of writing, never more than <see cref="MaxRequestBytes"/>.</summary>
    private static async Task<(ControlRequest? Request, string? Error)> ReadRequestAsync(Socket client, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[MaxRequestBytes + 1];
        int length = 0;
        while (length < buffer.Length)
        {
            int n = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken);
            if (n == 0)
                break;
            int newline = Array.IndexOf(buffer, (byte)'\n', length, n);
            length += n;
            if (newline >= 0)
            {
                length = newline;
                break;
            }
        }
        if (length > MaxRequestBytes)
            return (null, $"request longer than {MaxRequestBytes} bytes; nothing was changed");
        try
        {
            var request = JsonSerializer.Deserialize(buffer.AsSpan(0, length), ControlJsonContext.Default.ControlRequest);
            return request is null ? (null, "the request is JSON null, not an object; nothing was changed") : (request, null);
        }
        catch (JsonException e)
        {
            return (null, $"the request is not valid JSON ({e.Message}); nothing was changed");
        }
    }

    /// <summary>
    /// Reads and discards what the client still sends (the rest of an oversized request) until it stops, for at most
    /// the request's time and <see cref="MaxDrainBytes"/>: closing an AF_UNIX socket with unread data resets the
    /// connection (unix_release_sock: ECONNRESET to the peer), and the client would lose the answer already sent.
    /// </summary>
    private static async Task DrainAsync(Socket client, CancellationToken cancellationToken)
    {
        byte[] discard = new byte[16 * 1024];
        long drained = 0;
        int n;
        while (drained < MaxDrainBytes && (n = await client.ReceiveAsync(discard, SocketFlags.None, cancellationToken)) > 0)
            drained += n;
    }

    private const long MaxDrainBytes = 64L * 1024 * 1024;

    /// <summary>The peer's credentials: struct ucred { pid_t pid; uid_t uid; gid_t gid; }.</summary>
    private static Peer PeerOf(Socket client)
    {
        Span<byte> ucred = stackalloc byte[12];
        int length = client.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        return length < 8 ? new(0, uint.MaxValue) : new(MemoryMarshal.Read<int>(ucred), MemoryMarshal.Read<uint>(ucred[4..]));
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        await _accepting;
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
        _stop.Dispose();
    }
}
