using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Logging;

/// <summary>
/// The <c>NFULNL_MSG_CONFIG</c> request that binds an NFLOG group to the sending socket and sets it up, all in one
/// message (the kernel creates the instance on BIND, then applies the other attributes of the same message).
/// </summary>
/// <remarks>
/// No <c>NFULNL_CFG_CMD_PF_BIND</c>: nf_tables' <c>log group N</c> names the NFLOG logger itself (NF_LOG_TYPE_ULOG),
/// so a per-family binding is not needed, and PF_UNBIND would take the family's default logger from others in the
/// namespace. No flag asks for uid/gid: the kernel adds NFULA_UID/GID whenever the packet has a sending socket with
/// a file. Only <c>NFULNL_CFG_F_SEQ</c>: the instance's own counter, whose gaps are this reader's losses
/// (SEQ_GLOBAL also counts other groups' packets).
/// </remarks>
internal static class NflogConfig
{
    /// <summary>Writes the BIND request for <paramref name="group"/> (sequence number 0; the connection fills it in).</summary>
    public static byte[] Bind(ushort group, NflogReaderOptions options)
    {
        Span<byte> buffer = stackalloc byte[128];
        var writer = new NetlinkWriter(buffer);
        var message = writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.ULOG, (byte)NfulnlMessageType.CONFIG,
            NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.ACK, 0, NetfilterFamily.UNSPEC, group);
        writer.WriteU8((ushort)NfulaConfigAttribute.CMD, (byte)NfulnlConfigCommand.BIND); // struct nfulnl_msg_config_cmd
        // struct nfulnl_msg_config_mode (packed): __be32 copy_range, __u8 copy_mode, __u8 _pad
        Span<byte> mode = writer.Attribute((ushort)NfulaConfigAttribute.MODE, 6);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(mode, (uint)options.CopyRange);
        mode[4] = (byte)NfulnlCopyMode.PACKET;
        mode[5] = 0;
        writer.WriteU32BigEndian((ushort)NfulaConfigAttribute.NLBUFSIZ, (uint)options.KernelBufferSize);
        writer.WriteU32BigEndian((ushort)NfulaConfigAttribute.TIMEOUT, (uint)Math.Ceiling(options.FlushTimeout.TotalMilliseconds / 10));
        writer.WriteU32BigEndian((ushort)NfulaConfigAttribute.QTHRESH, (uint)options.QueueThreshold);
        writer.WriteU16BigEndian((ushort)NfulaConfigAttribute.FLAGS, (ushort)NfulnlConfigFlags.SEQ);
        writer.EndMessage(message);
        return writer.Written.ToArray();
    }
}
