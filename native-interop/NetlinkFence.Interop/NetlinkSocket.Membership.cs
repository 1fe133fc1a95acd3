using NetlinkFence.Interop.Uapi;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace NetlinkFence.Interop;

// Multicast groups and the non-blocking receive a long-lived stream (monitor, NFLOG) needs.
public sealed unsafe partial class NetlinkSocket
{
    /// <summary>
    /// Joins multicast group <paramref name="group"/> (<c>NETLINK_ADD_MEMBERSHIP</c>, e.g. <c>NFNLGRP_NFTABLES</c>):
    /// from now on the kernel queues the group's notifications on this socket.
    /// </summary>
    public void JoinGroup(int group) => SetMembership(NetlinkSocketOption.ADD_MEMBERSHIP, group, "NETLINK_ADD_MEMBERSHIP");

    /// <summary>Leaves multicast group <paramref name="group"/> (<c>NETLINK_DROP_MEMBERSHIP</c>).</summary>
    public void LeaveGroup(int group) => SetMembership(NetlinkSocketOption.DROP_MEMBERSHIP, group, "NETLINK_DROP_MEMBERSHIP");

    private void SetMembership(NetlinkSocketOption option, int group, string name)
    {
        // Groups are numbered from 1; the option takes the number itself, not a bit mask (unlike nl_groups at bind).
        ArgumentOutOfRangeException.ThrowIfLessThan(group, 1);
        int error = SetOption(SolNetlink, (int)option, group);
        if (error != 0)
            throw new ErrnoException($"setsockopt({name}, {group})", error);
    }

    /// <summary>
    /// Receives one datagram without waiting. Unlike <see cref="Receive"/>, the conditions a stream lives with are
    /// results, not exceptions: an empty queue is <see cref="NetlinkReceiveStatus.WouldBlock"/>, and a receive
    /// queue overflow (<c>ENOBUFS</c>: the kernel dropped notifications because the queue was full) is
    /// <see cref="NetlinkReceiveStatus.Overrun"/>; the socket stays usable after it. Datagrams not sent by the kernel are skipped.
    /// </summary>
    public NetlinkReceiveStatus ReceiveDatagram(Span<byte> buffer, out int length)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var sender = new SockaddrNl();
                var iov = new iovec { iov_base = p, iov_len = buffer.Length };
                var header = new msghdr
                {
                    msg_name = &sender,
                    msg_namelen = sizeof(SockaddrNl),
                    msg_iov = &iov,
                    msg_iovlen = 1,
                };
                long received = recvmsg(Fd, &header, MSG_DONTWAIT);
                length = 0;
                if (received < 0)
                {
                    int error = errno;
                    if (error == (int)Errno.INTR)
                        continue;
                    if (error == (int)Errno.AGAIN)
                        return NetlinkReceiveStatus.WouldBlock;
                    if (error == (int)Errno.NOBUFS)
                        return NetlinkReceiveStatus.Overrun;
                    throw new ErrnoException("recvmsg", error);
                }
                if (sender.PortId != 0)
                    continue; // only the kernel may talk to us
                length = (int)received;
                return (header.msg_flags & MSG_TRUNC) != 0 ? NetlinkReceiveStatus.Truncated : NetlinkReceiveStatus.Datagram;
            }
        }
    }

    /// <summary>
    /// Registers the socket with the runtime's event loop (epoll), for <see cref="NetlinkReadiness.WaitAsync"/>.
    /// Dispose the result before this socket. The socket is switched to non-blocking mode for good.
    /// </summary>
    public NetlinkReadiness WatchReadiness() => new(Fd);
}
