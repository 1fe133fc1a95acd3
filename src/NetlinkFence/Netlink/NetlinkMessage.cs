using System.Buffers.Binary;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>
/// One message of a datagram, read by <see cref="NetlinkMessageReader"/>: the <c>nlmsghdr</c> fields and a view
/// of the payload after it (valid only as long as the datagram's buffer is). The nfnetlink views
/// (<see cref="Subsystem"/>, <see cref="Family"/>, <see cref="ResourceId"/>, <see cref="Attributes"/>) assume a
/// <c>struct nfgenmsg</c> after the header; other protocols read <see cref="Payload"/> or <see cref="AttributesAfter"/>.
/// </summary>
public readonly ref struct NetlinkMessage
{
    /// <summary>Creates a view of one message (normally done by <see cref="NetlinkMessageReader"/>).</summary>
    public NetlinkMessage(ushort type, NetlinkMessageFlags flags, uint sequence, uint portId, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Flags = flags;
        Sequence = sequence;
        PortId = portId;
        Payload = payload;
    }

    /// <summary><c>nlmsg_type</c>: a control type (<see cref="NetlinkMessageType"/>) or the protocol's.</summary>
    public ushort Type { get; }

    /// <summary><c>nlmsg_flags</c>.</summary>
    public NetlinkMessageFlags Flags { get; }

    /// <summary><c>nlmsg_seq</c>: for a reply, the sequence number of the request it answers.</summary>
    public uint Sequence { get; }

    /// <summary><c>nlmsg_pid</c>: the sender's port id (0 for the kernel's own notifications; for nf_tables
    /// change events, the port of the socket that made the change).</summary>
    public uint PortId { get; }

    /// <summary>Everything after the <c>nlmsghdr</c> (for nfnetlink: nfgenmsg, then attributes).</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>The attributes after a protocol's fixed header of <paramref name="fixedHeaderLength"/> bytes
    /// (e.g. 16 for rtnetlink's <c>struct ifinfomsg</c>), which is padded to 4 bytes as <c>NLMSG_ALIGN</c> does.</summary>
    /// <exception cref="NetlinkDecodeException">The payload is shorter than the fixed header.</exception>
    public AttributeReader AttributesAfter(int fixedHeaderLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fixedHeaderLength);
        if (fixedHeaderLength > Payload.Length)
            throw new NetlinkDecodeException($"message type 0x{Type:x4} has {Payload.Length} payload bytes, too short for its {fixedHeaderLength}-byte header");
        return new AttributeReader(Payload[Math.Min(NetlinkAlignment.Align(fixedHeaderLength), Payload.Length)..]);
    }

    /// <summary>nfnetlink: the subsystem (high byte of the type).</summary>
    public NfnetlinkSubsystem Subsystem => (NfnetlinkSubsystem)(Type >> 8);

    /// <summary>nfnetlink: the subsystem's message type (low byte of the type).</summary>
    public byte SubsystemMessage => (byte)Type;

    /// <summary>nfnetlink: <c>nfgenmsg.nfgen_family</c>.</summary>
    /// <exception cref="NetlinkDecodeException">The payload is too short for nfgenmsg.</exception>
    public byte Family => Payload.Length >= NetlinkAlignment.NfgenHeaderSize
        ? Payload[0]
        : throw TooShortForNfgen();

    /// <summary>nfnetlink: <c>nfgenmsg.res_id</c> (big-endian; for nf_tables dumps the low 16 bits of the generation id).</summary>
    /// <exception cref="NetlinkDecodeException">The payload is too short for nfgenmsg.</exception>
    public ushort ResourceId => Payload.Length >= NetlinkAlignment.NfgenHeaderSize
        ? BinaryPrimitives.ReadUInt16BigEndian(Payload[2..])
        : throw TooShortForNfgen();

    /// <summary>nfnetlink: the attributes after nfgenmsg.</summary>
    /// <exception cref="NetlinkDecodeException">The payload is too short for nfgenmsg.</exception>
    public AttributeReader Attributes => Payload.Length >= NetlinkAlignment.NfgenHeaderSize
        ? new AttributeReader(Payload[NetlinkAlignment.NfgenHeaderSize..])
        : throw TooShortForNfgen();

    private NetlinkDecodeException TooShortForNfgen() =>
        new($"message type 0x{Type:x4} has {Payload.Length} payload bytes, too short for nfgenmsg");
}
