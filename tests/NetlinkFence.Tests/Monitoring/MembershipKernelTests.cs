using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Monitoring;

/// <summary>
/// NETLINK_ADD/DROP_MEMBERSHIP on a real socket. The kernel delivers nf_tables notifications inside the commit, before
/// nft exits, so "nothing queued" right after nft returns is a fact, not a race.
/// </summary>
public sealed class MembershipKernelTests
{
    [Fact]
    public void NotificationsArriveOnlyWhileAMemberOfTheGroup()
    {
        using var ns = TestNamespace.Create();
        using var socket = NetlinkSocket.Open(NetlinkProtocol.NETFILTER, ns.Path);
        var buffer = new byte[64 << 10];

        ns.Nft("add table ip before");
        Assert.Equal(NetlinkReceiveStatus.WouldBlock, socket.ReceiveDatagram(buffer, out _));

        socket.JoinGroup((int)NfnetlinkGroup.NFTABLES);
        ns.Nft("add table ip during");
        Assert.Equal(NetlinkReceiveStatus.Datagram, socket.ReceiveDatagram(buffer, out int length));
        Assert.True(length > 16);
        while (socket.ReceiveDatagram(buffer, out _) == NetlinkReceiveStatus.Datagram)
        {
        }

        socket.LeaveGroup((int)NfnetlinkGroup.NFTABLES);
        ns.Nft("add table ip after");
        Assert.Equal(NetlinkReceiveStatus.WouldBlock, socket.ReceiveDatagram(buffer, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => socket.JoinGroup(0));
    }
}
