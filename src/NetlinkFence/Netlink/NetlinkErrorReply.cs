using System.Buffers.Binary;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>
/// Decodes the payload of <c>NLMSG_ERROR</c>:
/// <code>
///  struct nlmsgerr { int error; struct nlmsghdr msg; }  then, with NLM_F_ACK_TLVS, nlattrs
///  (msg is the request's header only when NLM_F_CAPPED, else the whole request)
/// </code>
/// </summary>
internal static class NetlinkErrorReply
{
    /// <summary>Returns the negated error code (0 = ACK) and the request's sequence number.</summary>
    public static KernelError? Decode(in NetlinkMessage message, out uint requestSequence)
    {
        ReadOnlySpan<byte> payload = message.Payload;
        if (payload.Length < 4 + NetlinkAlignment.MessageHeaderSize)
            throw new NetlinkDecodeException($"NLMSG_ERROR with {payload.Length} payload bytes; at least 20 are needed");
        int error = BinaryPrimitives.ReadInt32LittleEndian(payload);
        ReadOnlySpan<byte> request = payload[4..];
        uint requestLength = BinaryPrimitives.ReadUInt32LittleEndian(request);
        requestSequence = BinaryPrimitives.ReadUInt32LittleEndian(request[8..]);
        if (error == 0)
            return null;

        string? text = null;
        int? offset = null;
        if ((message.Flags & NetlinkMessageFlags.ACK_TLVS) != 0)
        {
            bool capped = (message.Flags & NetlinkMessageFlags.CAPPED) != 0;
            if (!capped && requestLength < NetlinkAlignment.MessageHeaderSize)
                throw new NetlinkDecodeException($"NLMSG_ERROR echoes a request of {requestLength} bytes, shorter than its own header");
            // long: a lying 32-bit length must not overflow into a negative offset.
            long echoed = capped ? NetlinkAlignment.MessageHeaderSize : ((long)requestLength + 3) & ~3L;
            if (echoed > request.Length)
                throw new NetlinkDecodeException($"NLMSG_ERROR echoes {echoed} request bytes but carries only {request.Length}");
            var attributes = new AttributeReader(request[(int)echoed..]);
            while (attributes.TryRead(out var attribute))
            {
                switch ((NetlinkErrorAttribute)attribute.Type)
                {
                    case NetlinkErrorAttribute.MSG:
                        text = attribute.String();
                        break;
                    case NetlinkErrorAttribute.OFFS:
                        offset = attribute.Payload.Length == 4 ? (int)BinaryPrimitives.ReadUInt32LittleEndian(attribute.Payload) : null;
                        break;
                }
            }
        }
        return new KernelError(requestSequence, -error, text, offset);
    }
}
