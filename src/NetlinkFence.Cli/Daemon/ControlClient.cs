using System.Net.Sockets;
using System.Text.Json;

namespace NetlinkFence.Cli.Daemon;

/// <summary>The CLI's side of the control socket: one request, one response, per connection.</summary>
internal static class ControlClient
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Sends <paramref name="request"/> to the daemon for <paramref name="table"/> in <paramref name="netns"/>; null when no
    /// daemon answers there (no socket file, nobody listening: a stale file of a killed daemon), so the caller can work on
    /// the kernel directly.
    /// </summary>
    public static async Task<ControlResponse?> TryRequestAsync(string? netns, string table, ControlRequest request, CancellationToken cancellationToken)
    {
        using var target = TargetNamespace.Open(netns);
        return await TryRequestAsync(target, table, request, cancellationToken);
    }

    /// <summary>As <see cref="TryRequestAsync(string?, string, ControlRequest, CancellationToken)"/>, for a namespace already open.</summary>
    public static async Task<ControlResponse?> TryRequestAsync(TargetNamespace target, string table, ControlRequest request, CancellationToken cancellationToken)
    {
        string path = DaemonPaths.ControlSocket(target, table);
        if (!File.Exists(path))
            return null;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            return null;
        }
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(request, ControlJsonContext.Default.ControlRequest);
        await socket.SendAsync(bytes, SocketFlags.None, timeout.Token);
        socket.Shutdown(SocketShutdown.Send);
        using var reply = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            reply.Write(buffer, 0, n);
        return JsonSerializer.Deserialize(reply.GetBuffer().AsSpan(0, (int)reply.Length), ControlJsonContext.Default.ControlResponse)
            ?? throw new SystemFailureException($"the daemon on {path} answered JSON null");
    }
}
