using System.Buffers.Binary;
using System.Net.Sockets;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Logging;

/// <summary>
/// The cgroup v2 id of the local socket that sent a denied TCP or UDP packet. NFLOG carries the socket's uid but not
/// its cgroup, so the socket is looked up by its 5-tuple over NETLINK_SOCK_DIAG (<c>SOCK_DIAG_BY_FAMILY</c>, an exact
/// <c>inet_diag_req_v2</c>, no dump) in the namespace the packet was logged in; the reply's <c>INET_DIAG_CGROUP_ID</c>
/// (Linux 5.7+, sent unasked) is the cgroup the socket was created in, the one nf_tables' <c>socket cgroupv2</c>
/// matches. The kernel answers inside sendmsg: a lookup never waits. Not thread-safe.
/// </summary>
/// <remarks>
/// A denied TCP SYN's socket lives while it retransmits, a UDP socket while its program keeps it: a socket closed
/// before the lookup is not found, and the answer is null (unknown), never a guess. A socket found with another uid
/// than the packet's is another socket that took the same addresses and ports since: also null. The records of one
/// NFLOG datagram (sent by the kernel at one moment) that share a 5-tuple and uid share one lookup
/// (<see cref="BeginBatch"/>), so a flood from one socket costs one lookup per datagram, not per record.
/// </remarks>
internal sealed class SocketCgroupLookup : IDisposable
{
    private const int RequestSize = 16 + 56; // nlmsghdr + inet_diag_req_v2
    private const int DiagMessageSize = 72; // struct inet_diag_msg
    private const int UidOffset = 64; // inet_diag_msg.idiag_uid
    private const int BatchMemory = 16;

    private readonly NetlinkConnection _diag;
    private readonly byte[] _request = new byte[RequestSize];
    private readonly ReplyHandler _onReply;
    private readonly (Tuple Key, ulong? Id)[] _batch = new (Tuple, ulong?)[BatchMemory];
    private int _batchCount;
    private ulong? _foundId;
    private uint _foundUid;

    private readonly record struct Tuple(UInt128 Source, UInt128 Destination, int Ports, int Protocol, int AddressLength, uint Uid, uint Interface);

    /// <param name="diag">A NETLINK_SOCK_DIAG connection in the namespace the packets are logged in.</param>
    public SocketCgroupLookup(NetlinkConnection diag)
    {
        _diag = diag;
        _onReply = OnReply;
    }

    /// <summary>Opens the NETLINK_SOCK_DIAG socket inside <paramref name="namespacePath"/> (null: here).</summary>
    public static async Task<SocketCgroupLookup> OpenAsync(string? namespacePath) =>
        new(new NetlinkConnection(new SocketTransport(await NetlinkSocket.OpenAsync(NetlinkProtocol.SOCK_DIAG, namespacePath).ConfigureAwait(false))));

    /// <summary>Lookups sent to the kernel (records that shared one within a batch count once).</summary>
    public long Lookups { get; private set; }

    /// <summary>Forgets the answers of the previous datagram's records: the next lookups ask the kernel again.</summary>
    public void BeginBatch() => _batchCount = 0;

    /// <summary>
    /// The cgroup id of the socket that sent <paramref name="packet"/>, a packet logged on its way out: only for TCP
    /// and UDP sent from a socket (the packet has a uid); null when it does not apply or the socket is gone.
    /// </summary>
    public ulong? Find(in NflogPacket packet)
    {
        if (!Applies(packet))
            return null;
        var key = new Tuple(Address(packet.Source), Address(packet.Destination), packet.SourcePort << 16 | packet.DestinationPort,
            packet.Protocol, packet.Source.Length, (uint)packet.Uid, packet.OutputIndex);
        for (int i = 0; i < _batchCount; i++)
            if (_batch[i].Key == key)
                return _batch[i].Id;
        ulong? id = Ask(packet);
        if (_batchCount < _batch.Length)
            _batch[_batchCount++] = (key, id);
        return id;
    }

    /// <summary>Whether <paramref name="packet"/> was sent from a local TCP or UDP socket (it has a uid) that can be looked up by its addresses and ports.</summary>
    public static bool Applies(in NflogPacket packet) =>
        (packet.Protocol is (int)ProtocolType.Tcp or (int)ProtocolType.Udp) && packet.Uid >= 0
        && packet.SourcePort >= 0 && packet.DestinationPort >= 0 && !packet.Truncated
        && packet.Source.Length == packet.Destination.Length && (packet.Source.Length is 4 or 16);

    private ulong? Ask(in NflogPacket packet)
    {
        Lookups++;
        var request = _request.AsSpan();
        request.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(request, RequestSize); // nlmsg_len
        BinaryPrimitives.WriteUInt16LittleEndian(request[4..], (ushort)SockDiagMessageType.BY_FAMILY);
        BinaryPrimitives.WriteUInt16LittleEndian(request[6..], (ushort)NetlinkMessageFlags.REQUEST);
        var body = request[16..];
        body[0] = (byte)(packet.Source.Length == 4 ? NetfilterFamily.IPV4 : NetfilterFamily.IPV6); // NFPROTO_IPV4/6 are AF_INET/6
        body[1] = (byte)packet.Protocol;
        BinaryPrimitives.WriteUInt32LittleEndian(body[4..], uint.MaxValue); // idiag_states: any
        // inet_diag_sockid: sport, dport (big endian), src[4], dst[4] (network order), if, cookie[2].
        // TCP looks the socket up as its own (src = local); udp_dump_one swaps them ("for historical reasons",
        // net/ipv4/udp_diag.c): src is the peer there. Checked on the kernel by SocketCgroupLookupTests.
        bool swap = packet.Protocol == (int)ProtocolType.Udp;
        var id = body[8..];
        BinaryPrimitives.WriteUInt16BigEndian(id, (ushort)(swap ? packet.DestinationPort : packet.SourcePort));
        BinaryPrimitives.WriteUInt16BigEndian(id[2..], (ushort)(swap ? packet.SourcePort : packet.DestinationPort));
        (swap ? packet.Destination : packet.Source).CopyTo(id[4..]);
        (swap ? packet.Source : packet.Destination).CopyTo(id[20..]);
        BinaryPrimitives.WriteUInt32LittleEndian(id[36..], packet.OutputIndex); // a socket bound to a device is found through it
        BinaryPrimitives.WriteUInt64LittleEndian(id[40..], ulong.MaxValue); // INET_DIAG_NOCOOKIE
        _foundId = null;
        _foundUid = uint.MaxValue;
        try
        {
            var pending = _diag.RequestAsync(_request, "SOCK_DIAG_BY_FAMILY", _onReply, synchronous: true, CancellationToken.None);
            pending.GetAwaiter().GetResult(); // synchronous: already complete
        }
        catch (Exception e) when (e is NetlinkKernelException or NetlinkDecodeException or NetlinkTimeoutException or ErrnoException)
        {
            return null; // ENOENT: no such socket (any more)
        }
        return _foundUid == (uint)packet.Uid ? _foundId : null;
    }

    private bool OnReply(in NetlinkMessage reply)
    {
        if (reply.Type != (ushort)SockDiagMessageType.BY_FAMILY || reply.Payload.Length < DiagMessageSize)
            return false;
        _foundUid = BinaryPrimitives.ReadUInt32LittleEndian(reply.Payload[UidOffset..]);
        var attributes = reply.AttributesAfter(DiagMessageSize);
        while (attributes.TryRead(out var attribute))
            if (attribute.Type == (ushort)InetDiagAttribute.CGROUP_ID && attribute.Payload.Length == 8)
                _foundId = attribute.U64();
        return true;
    }

    private static UInt128 Address(ReadOnlySpan<byte> address) => address.Length == 4
        ? BinaryPrimitives.ReadUInt32BigEndian(address)
        : BinaryPrimitives.ReadUInt128BigEndian(address);

    public void Dispose() => _diag.Dispose();
}
