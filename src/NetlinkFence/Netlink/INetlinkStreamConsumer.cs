namespace NetlinkFence.Netlink;

/// <summary>Receives what a <see cref="NetlinkSubscription"/> read, in the order the kernel sent it.</summary>
internal interface INetlinkStreamConsumer
{
    /// <summary>One whole datagram (one or more netlink messages). The span is valid only during the call.</summary>
    void OnDatagram(ReadOnlySpan<byte> datagram);

    /// <summary>
    /// Messages were lost here: the socket's receive queue overflowed <paramref name="overruns"/> times (ENOBUFS),
    /// or a datagram did not fit the receive buffer. How many messages is unknown; the kernel only says that it dropped.
    /// </summary>
    void OnOverrun(int overruns);
}
