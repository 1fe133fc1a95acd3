using System.Buffers.Binary;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>One message of a datagram: the nlmsghdr fields and the payload after it.</summary>
internal readonly ref struct NetlinkMessage
{
    public NetlinkMessage(ushort type, NetlinkMessageFlags flags, uint sequence, uint portId, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Flags = flags;
        Sequence = sequence;
        PortId = portId;
        Payload = payload;
    }

    public ushort Type { get; }
    public NetlinkMessageFlags Flags { get; }
    public uint Sequence { get; }
    public uint PortId { get; }

    /// <summary>Everything after the nlmsghdr (for nfnetlink: nfgenmsg, then attributes).</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>The nfnetlink subsystem (high byte of the type).</summary>
    public NfnetlinkSubsystem Subsystem => (NfnetlinkSubsystem)(Type >> 8);

    /// <summary>The subsystem's message type (low byte of the type).</summary>
    public byte SubsystemMessage => (byte)Type;

    /// <summary>nfgenmsg.nfgen_family.</summary>
    public byte Family => Payload.Length >= NetlinkAlignment.NfgenHeaderSize
        ? Payload[0]
        : throw new NetlinkDecodeException($"message type 0x{Type:x4} has {Payload.Length} payload bytes, too short for nfgenmsg");

    /// <summary>nfgenmsg.res_id (big-endian; for nf_tables dumps the low 16 bits of the generation id).</summary>
    public ushort ResourceId => Payload.Length >= NetlinkAlignment.NfgenHeaderSize
        ? BinaryPrimitives.ReadUInt16BigEndian(Payload[2..])
        : throw new NetlinkDecodeException($"message type 0x{Type:x4} has {Payload.Length} payload bytes, too short for nfgenmsg");

    /// <summary>The attributes after nfgenmsg.</summary>
    public AttributeReader Attributes => Payload.Length >= NetlinkAlignment.NfgenHeaderSize
        ? new AttributeReader(Payload[NetlinkAlignment.NfgenHeaderSize..])
        : throw new NetlinkDecodeException($"message type 0x{Type:x4} has {Payload.Length} payload bytes, too short for nfgenmsg");
}
