using NetlinkFence.Interop;

namespace NetlinkFence.Netlink;

/// <summary>A netlink socket as a <see cref="INetlinkDatagramSource"/>, waiting on the runtime's epoll loop.</summary>
internal sealed class SocketDatagramSource(NetlinkSocket socket) : INetlinkDatagramSource
{
    private readonly NetlinkReadiness _readiness = socket.WatchReadiness();

    public NetlinkSocket Socket => socket;

    public NetlinkReceiveStatus TryReceive(Span<byte> buffer, out int length) => socket.ReceiveDatagram(buffer, out length);

    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken) => _readiness.WaitAsync(cancellationToken);

    public void Dispose()
    {
        _readiness.Dispose(); // unregister from epoll before the descriptor is closed
        socket.Dispose();
    }
}
