using System.Net.Sockets;
using System.Text;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// sd_notify(3) without libsystemd: one AF_UNIX datagram per state change to the socket named by <c>NOTIFY_SOCKET</c>
/// (a path, or <c>@name</c> for the abstract namespace), e.g. <c>READY=1</c>. Without the variable (not started by
/// systemd with Type=notify) it does nothing. A notification that cannot be sent is reported once, never fatal:
/// the firewall is up either way.
/// </summary>
internal sealed class SystemdNotifier : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endpoint;
    private bool _warned;

    public SystemdNotifier(string? notifySocket)
    {
        if (string.IsNullOrEmpty(notifySocket))
            return;
        // Abstract socket addresses start with a NUL byte; systemd writes it as '@'.
        _endpoint = new UnixDomainSocketEndPoint(notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    /// <summary>From the environment (<c>NOTIFY_SOCKET</c>).</summary>
    public static SystemdNotifier FromEnvironment() => new(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    /// <summary>Sends <paramref name="state"/>, e.g. <c>READY=1\nSTATUS=...</c> (newline-separated assignments).</summary>
    public void Notify(string state)
    {
        if (_socket is null)
            return;
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), _endpoint!);
        }
        catch (SocketException e) when (!_warned)
        {
            _warned = true;
            Console.Error.WriteLine($"netlinkfence: warning: cannot notify systemd on NOTIFY_SOCKET: {e.Message}");
        }
        catch (SocketException)
        {
        }
    }

    public void Dispose() => _socket?.Dispose();
}
