using System.Diagnostics;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

/// <summary>
/// A minimal nfnetlink_log (NFLOG) reader on the library's public netlink writer and reader: binds one group
/// and prints the prefix of every logged packet.
/// </summary>
internal static class Nflog
{
    private const uint BindSequence = 1;

    public static int Run(ushort group, int milliseconds)
    {
        using var socket = NetlinkSocket.Open(NetlinkProtocol.NETFILTER);
        // NFULNL_MSG_CONFIG with res_id = group and NFULA_CFG_CMD { BIND }: from now on the group's packets come here.
        Span<byte> request = stackalloc byte[32];
        var writer = new NetlinkWriter(request);
        var message = writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.ULOG, (byte)NfulnlMessageType.CONFIG,
            NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.ACK, BindSequence, NetfilterFamily.UNSPEC, resourceId: group);
        writer.WriteU8((ushort)NfulaConfigAttribute.CMD, (byte)NfulnlConfigCommand.BIND);
        writer.EndMessage(message);
        socket.Send(writer.Written);

        var buffer = new byte[65536];
        int length = socket.Receive(buffer, wait: true, out _);
        if (!IsAck(buffer.AsSpan(0, Math.Max(length, 0))))
        {
            Console.Error.WriteLine("nflog: binding group " + group + " was refused");
            return 3;
        }
        Console.WriteLine("ready");
        Console.Out.Flush();

        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < milliseconds)
        {
            if (!socket.WaitReadable((int)Math.Max(1, milliseconds - clock.ElapsedMilliseconds)))
                continue;
            length = socket.Receive(buffer, wait: false, out _);
            if (length > 0)
                PrintPrefixes(buffer.AsSpan(0, length));
        }
        return 0;
    }

    /// <summary>Whether the datagram is the kernel's NLMSG_ERROR with code 0 for the bind request.</summary>
    private static bool IsAck(ReadOnlySpan<byte> datagram)
    {
        var reader = new NetlinkMessageReader(datagram);
        return reader.TryRead(out var reply)
            && reply.Type == (ushort)NetlinkMessageType.ERROR
            && reply.Sequence == BindSequence
            && reply.Payload.Length >= 4
            && BitConverter.ToInt32(reply.Payload) == 0;
    }

    private static void PrintPrefixes(ReadOnlySpan<byte> datagram)
    {
        var reader = new NetlinkMessageReader(datagram);
        try
        {
            while (reader.TryRead(out var message))
            {
                if (message.Type != Nfnetlink.MessageType(NfnetlinkSubsystem.ULOG, (byte)NfulnlMessageType.PACKET))
                    continue;
                var attributes = message.Attributes;
                while (attributes.TryRead(out var attribute))
                    if (attribute.Type == (ushort)NfulaAttribute.PREFIX)
                        Console.WriteLine("nflog prefix=" + attribute.String());
            }
        }
        catch (NetlinkDecodeException e)
        {
            Console.Error.WriteLine("nflog: skipped a malformed datagram: " + e.Message);
        }
    }
}
