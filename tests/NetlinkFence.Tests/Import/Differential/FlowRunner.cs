using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using NetlinkFence.Interop;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Import.Differential;

/// <summary>
/// Sends flows through an agent/world pair, all at once, and judges each by its reply: a flow is allowed only when
/// the reply came back before the deadline. A denied flow costs nothing but the one shared deadline, so a few hundred
/// flows take the deadline plus the time to open their sockets. Datagrams and echo requests are sent again every
/// half second until the reply or the deadline, so one packet queued behind neighbour resolution is no denial.
/// </summary>
public static class FlowRunner
{
    private static readonly TimeSpan Resend = TimeSpan.FromMilliseconds(500);
    private static int _echoIdentifier = Environment.ProcessId;

    public static async Task<FlowOutcome[]> RunAsync(AgentAndWorld net, IReadOnlyList<Flow> flows, TimeSpan deadline)
    {
        // Each socket is made (and bound to its source address) inside the namespace of the side that starts the
        // flow: one short-lived thread per side; the sockets stay in their namespaces whichever thread uses them.
        var fromAgent = NetworkNamespace.Run(net.Agent.Path, () => Open(flows, FlowDirection.Outbound));
        Socket?[] fromWorld;
        try
        {
            fromWorld = NetworkNamespace.Run(net.World.Path, () => Open(flows, FlowDirection.Inbound));
        }
        catch
        {
            Close(fromAgent);
            throw;
        }
        try
        {
            using var timeout = new CancellationTokenSource(deadline);
            return await Task.WhenAll(flows.Select((flow, i) => SendAsync(flow, (fromAgent[i] ?? fromWorld[i])!, timeout.Token)));
        }
        finally
        {
            Close(fromAgent);
            Close(fromWorld);
        }
    }

    private static Socket?[] Open(IReadOnlyList<Flow> flows, FlowDirection direction)
    {
        var sockets = new Socket?[flows.Count];
        try
        {
            for (int i = 0; i < flows.Count; i++)
            {
                if (flows[i].Direction != direction)
                    continue;
                var source = IPAddress.Parse(flows[i].Source);
                var socket = flows[i].Protocol switch
                {
                    FlowProtocol.Tcp => new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp),
                    FlowProtocol.Udp => new Socket(source.AddressFamily, SocketType.Dgram, ProtocolType.Udp),
                    _ => new Socket(source.AddressFamily, SocketType.Raw, flows[i].IsV6 ? ProtocolType.IcmpV6 : ProtocolType.Icmp),
                };
                sockets[i] = socket;
                socket.Bind(new IPEndPoint(source, 0));
            }
            return sockets;
        }
        catch
        {
            Close(sockets);
            throw;
        }
    }

    private static void Close(Socket?[] sockets)
    {
        foreach (var socket in sockets)
            socket?.Dispose();
    }

    private static Task<FlowOutcome> SendAsync(Flow flow, Socket socket, CancellationToken deadline) => flow.Protocol switch
    {
        FlowProtocol.Tcp => TcpAsync(flow, socket, deadline),
        FlowProtocol.Udp => UdpAsync(flow, socket, deadline),
        _ => EchoAsync(flow, socket, deadline),
    };

    private static async Task<FlowOutcome> TcpAsync(Flow flow, Socket socket, CancellationToken deadline)
    {
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(flow.Destination), flow.Port), deadline);
            var greeting = new byte[8];
            int read = 0, n;
            while (read < 5 && (n = await socket.ReceiveAsync(greeting.AsMemory(read), SocketFlags.None, deadline)) > 0)
                read += n;
            return "hello"u8.SequenceEqual(greeting.AsSpan(0, read))
                ? new FlowOutcome(true, "greeting")
                : new FlowOutcome(false, $"connected, {read} bytes of greeting");
        }
        catch (OperationCanceledException)
        {
            return new FlowOutcome(false, socket.Connected ? "connected, no greeting" : "no answer");
        }
        catch (SocketException e)
        {
            return new FlowOutcome(false, e.SocketErrorCode.ToString());
        }
    }

    private static async Task<FlowOutcome> UdpAsync(Flow flow, Socket socket, CancellationToken deadline)
    {
        var echo = new byte[16];
        socket.Connect(IPAddress.Parse(flow.Destination), flow.Port);
        return await RepeatUntilReplyAsync(() => socket.Send("ping"u8), async () =>
        {
            int read = await socket.ReceiveAsync(echo, SocketFlags.None, deadline);
            return read == 4 && "ping"u8.SequenceEqual(echo.AsSpan(0, 4));
        }, "echo", deadline);
    }

    private static async Task<FlowOutcome> EchoAsync(Flow flow, Socket socket, CancellationToken deadline)
    {
        ushort identifier = (ushort)Interlocked.Increment(ref _echoIdentifier);
        var destination = new IPEndPoint(IPAddress.Parse(flow.Destination), 0);
        byte[] request = EchoRequest(flow.IsV6, identifier);
        var buffer = new byte[1500];
        return await RepeatUntilReplyAsync(() => socket.SendTo(request, destination), async () =>
        {
            // A raw socket sees every echo reply of its namespace: only the one to this request counts.
            EndPoint any = new IPEndPoint(flow.IsV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
            while (true)
            {
                var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, deadline);
                if (IsEchoReply(buffer.AsSpan(0, received.ReceivedBytes), flow.IsV6, identifier)
                    && ((IPEndPoint)received.RemoteEndPoint).Address.Equals(destination.Address))
                    return true;
            }
        }, "echo reply", deadline);
    }

    /// <summary>Sends, then again every half second, until <paramref name="receive"/> has the reply or the deadline passes.</summary>
    private static async Task<FlowOutcome> RepeatUntilReplyAsync(Action send, Func<Task<bool>> receive, string reply, CancellationToken deadline)
    {
        string lastSendError = "";
        var received = receive();
        try
        {
            while (!received.IsCompleted)
            {
                try
                {
                    send();
                }
                catch (SocketException e)
                {
                    lastSendError = $", send: {e.SocketErrorCode}"; // EPERM: dropped by a local firewall; a refusal from an ICMP error
                }
                await Task.WhenAny(received, Task.Delay(Resend, deadline));
            }
            return await received ? new FlowOutcome(true, reply) : new FlowOutcome(false, "wrong " + reply);
        }
        catch (OperationCanceledException)
        {
            return new FlowOutcome(false, "no answer" + lastSendError);
        }
        catch (SocketException e)
        {
            return new FlowOutcome(false, e.SocketErrorCode.ToString());
        }
    }

    private static byte[] EchoRequest(bool v6, ushort identifier)
    {
        var packet = new byte[8 + 16];
        packet[0] = v6 ? (byte)128 : (byte)8; // echo request
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), identifier);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), 1);
        "netlinkfence-ping"u8[..16].CopyTo(packet.AsSpan(8));
        if (!v6) // the kernel fills in the ICMPv6 checksum (it covers a pseudo-header); ICMPv4's is ours to write
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), InternetChecksum(packet));
        return packet;
    }

    private static bool IsEchoReply(ReadOnlySpan<byte> packet, bool v6, ushort identifier)
    {
        if (!v6) // a raw IPv4 socket receives the IP header too
        {
            if (packet.Length < 20)
                return false;
            packet = packet[((packet[0] & 0x0f) * 4)..];
        }
        return packet.Length >= 8 && packet[0] == (v6 ? 129 : 0) && BinaryPrimitives.ReadUInt16BigEndian(packet[4..]) == identifier;
    }

    private static ushort InternetChecksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (int i = 0; i + 1 < data.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (data.Length % 2 == 1)
            sum += (uint)data[^1] << 8;
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}
