using System.Buffers.Binary;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>
/// The nfnetlink layer over <see cref="NetlinkWriter"/>: every <c>NETLINK_NETFILTER</c> message carries
/// <c>struct nfgenmsg</c> after its <c>nlmsghdr</c>, and its type is <c>(subsystem &lt;&lt; 8) | message</c>.
/// </summary>
/// <remarks>
/// <code>
///  struct nfgenmsg
///  +--------------+---------------+-----------------+
///  | family u8    | version u8 (0)| res_id BE u16   |
///  +--------------+---------------+-----------------+
/// </code>
/// <c>res_id</c> is the subsystem for batch markers, the group for NFLOG configuration, and 0 for most
/// nf_tables requests.
/// </remarks>
public static class Nfnetlink
{
    /// <summary><c>nlmsg_type</c> of an nfnetlink message: <c>(subsystem &lt;&lt; 8) | message</c>.</summary>
    public static ushort MessageType(NfnetlinkSubsystem subsystem, byte message) => (ushort)(((int)subsystem << 8) | message);

    /// <summary>
    /// Starts an nfnetlink message: the <c>nlmsghdr</c> for <paramref name="subsystem"/>'s
    /// <paramref name="messageType"/>, then its <c>nfgenmsg</c>. End it with <see cref="NetlinkWriter.EndMessage"/>.
    /// </summary>
    /// <param name="writer">The writer to append to.</param>
    /// <param name="subsystem">The nfnetlink subsystem (<c>NFNL_SUBSYS_*</c>); <see cref="NfnetlinkSubsystem.NONE"/> for batch markers.</param>
    /// <param name="messageType">The subsystem's message type, e.g. <c>NFT_MSG_NEWRULE</c> or <c>NFULNL_MSG_CONFIG</c>.</param>
    /// <param name="flags"><c>nlmsg_flags</c>.</param>
    /// <param name="sequence"><c>nlmsg_seq</c>.</param>
    /// <param name="family"><c>nfgen_family</c>, an <c>NFPROTO_*</c> value.</param>
    /// <param name="resourceId"><c>res_id</c> (written big-endian).</param>
    /// <exception cref="NetlinkEncodingException">The buffer has no room for the headers.</exception>
    public static NetlinkMessageToken BeginNfnetlinkMessage(this ref NetlinkWriter writer, NfnetlinkSubsystem subsystem, byte messageType,
        NetlinkMessageFlags flags, uint sequence, NetfilterFamily family, ushort resourceId = 0)
    {
        var message = writer.BeginMessage(MessageType(subsystem, messageType), flags, sequence);
        writer.WriteNfgenHeader(family, resourceId);
        return message;
    }

    /// <summary>Writes <c>struct nfgenmsg</c> (version <c>NFNETLINK_V0</c>) right after a message's <c>nlmsghdr</c>.</summary>
    /// <exception cref="NetlinkEncodingException">The buffer has no room for the header.</exception>
    public static void WriteNfgenHeader(this ref NetlinkWriter writer, NetfilterFamily family, ushort resourceId = 0)
    {
        Span<byte> header = writer.Reserve(NetlinkAlignment.NfgenHeaderSize);
        header[0] = (byte)family;
        header[1] = (byte)NfnetlinkVersion.V0;
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], resourceId);
    }
}
