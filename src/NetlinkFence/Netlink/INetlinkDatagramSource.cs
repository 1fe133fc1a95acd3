using NetlinkFence.Interop;

namespace NetlinkFence.Netlink;

/// <summary>
/// Where a <see cref="NetlinkSubscription"/> gets its datagrams: the socket in the product, a script in rootless tests.
/// </summary>
internal interface INetlinkDatagramSource : IDisposable
{
    /// <summary>Receives one datagram without waiting (see <see cref="NetlinkSocket.ReceiveDatagram"/>).</summary>
    NetlinkReceiveStatus TryReceive(Span<byte> buffer, out int length);

    /// <summary>Waits until a datagram is queued; true when an overrun (ENOBUFS) was reported instead.</summary>
    ValueTask<bool> WaitAsync(CancellationToken cancellationToken);
}
