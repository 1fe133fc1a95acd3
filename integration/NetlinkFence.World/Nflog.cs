using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using NetlinkFence.Interop;

/// <summary>A minimal nfnetlink_log (NFLOG) reader: binds one group and prints the prefix of every logged packet.</summary>
internal static class Nflog
{
    private const ushort SubsysUlog = 4;                 // NFNL_SUBSYS_ULOG
    private const ushort MsgPacket = 0, MsgConfig = 1;   // NFULNL_MSG_*
    private const ushort CfgCmd = 1;                     // NFULA_CFG_CMD
    private const byte CmdBind = 1;                      // NFULNL_CFG_CMD_BIND
    private const ushort AttrPrefix = 10;                // NFULA_PREFIX
    private const ushort NlmFRequest = 1, NlmFAck = 4, NlmsgError = 2;

    public static int Run(ushort group, int milliseconds)
    {
        using var socket = NetlinkSocket.Open(NetlinkFence.Interop.Uapi.NetlinkProtocol.NETFILTER);
        // nlmsghdr + nfgenmsg(AF_UNSPEC, version 0, res_id = group, big endian) + NFULA_CFG_CMD { BIND }
        var request = new byte[16 + 4 + 8];
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(4), (ushort)(SubsysUlog << 8 | MsgConfig));
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(6), NlmFRequest | NlmFAck);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(18), group);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(20), 5);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(22), CfgCmd);
        request[24] = CmdBind;
        socket.Send(request);

        var buffer = new byte[65536];
        int length = socket.Receive(buffer, wait: true, out _);
        if (length < 20 || BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(4)) != NlmsgError
            || BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(16)) != 0)
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
            for (int offset = 0; length > 0 && offset + 16 <= length;)
            {
                int messageLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset));
                if (messageLength < 16 || offset + messageLength > length)
                    break;
                if (BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(offset + 4)) == (SubsysUlog << 8 | MsgPacket))
                    PrintPrefix(buffer.AsSpan(offset + 20, messageLength - 20));
                offset += (messageLength + 3) & ~3;
            }
        }
        return 0;
    }

    private static void PrintPrefix(ReadOnlySpan<byte> attributes)
    {
        while (attributes.Length >= 4)
        {
            int attributeLength = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            ushort type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & 0x3fff);
            if (attributeLength < 4 || attributeLength > attributes.Length)
                return;
            if (type == AttrPrefix)
            {
                var value = attributes[4..attributeLength];
                int end = value.IndexOf((byte)0);
                Console.WriteLine("nflog prefix=" + Encoding.ASCII.GetString(end < 0 ? value : value[..end]));
            }
            attributes = attributes[Math.Min(attributes.Length, (attributeLength + 3) & ~3)..];
        }
    }
}
