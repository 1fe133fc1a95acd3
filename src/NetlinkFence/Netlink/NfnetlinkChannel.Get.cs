using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

internal sealed partial class NfnetlinkChannel
{
    /// <summary>
    /// Sends one non-dump GET (e.g. NFT_MSG_GETCHAIN naming table and chain) and hands the kernel's single reply
    /// to <paramref name="handler"/>. Returns false when the kernel answers ENOENT (no such object); any other
    /// error is thrown. No NLM_F_ACK: the reply itself, or the error, is the answer.
    /// </summary>
    public bool Get(NftMessageType type, NetfilterFamily family, DumpRequestWriter writeRequest, DumpMessageHandler handler, CancellationToken cancellationToken)
    {
        DiscardStaleReplies();
        uint sequence = ReserveSequences(1);
        Span<byte> request = stackalloc byte[1024];
        var writer = new NetlinkWriter(request);
        var start = writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.NFTABLES, (byte)type, NetlinkMessageFlags.REQUEST, sequence, family);
        writeRequest(ref writer);
        writer.EndMessage(start);
        _socket.Send(writer.Written);

        var deadline = DateTime.UtcNow + ReplyTimeout;
        while (true)
        {
            int length = ReceiveWaiting(deadline, cancellationToken);
            var reader = new NetlinkMessageReader(_receive.AsSpan(0, length));
            while (reader.TryRead(out var message))
            {
                if (message.Sequence != sequence)
                    continue;
                if (message.Type == (ushort)NetlinkMessageType.ERROR)
                {
                    var error = NetlinkErrorReply.Decode(message, out _);
                    if (error is null)
                        continue;
                    if (error.Errno == (int)Errno.NOENT)
                        return false;
                    throw new NetlinkKernelException($"getting one object ({type})", error);
                }
                handler(message);
                return true;
            }
        }
    }
}
