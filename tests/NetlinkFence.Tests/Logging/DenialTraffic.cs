using System.Net;
using System.Net.Sockets;
using NetlinkFence.Interop;

namespace NetlinkFence.Tests.Logging;

/// <summary>Traffic an NFLOG rule in the agent logs and drops: sent from sockets made inside the agent's namespace.</summary>
internal static class DenialTraffic
{
    /// <summary>
    /// Sends <paramref name="count"/> UDP datagrams to <paramref name="address"/>:<paramref name="port"/> from one
    /// connected socket; a drop by nf_tables shows as EPERM, read as a SocketError (no exception per packet).
    /// </summary>
    public static void Udp(string namespacePath, string address, int port, int count, int payload = 8)
    {
        var target = IPAddress.Parse(address);
        using var socket = NetworkNamespace.Run(namespacePath, () => new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp));
        socket.Connect(target, port);
        var data = new byte[payload];
        for (int i = 0; i < count; i++)
            socket.Send(data, SocketFlags.None, out _);
    }

    /// <summary>Like <see cref="Udp"/>, but the socket stays open until the caller disposes it (its cgroup can be looked up).</summary>
    public static Socket UdpKept(string namespacePath, string address, int port, int count)
    {
        var target = IPAddress.Parse(address);
        var socket = NetworkNamespace.Run(namespacePath, () => new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp));
        socket.Connect(target, port);
        for (int i = 0; i < count; i++)
            socket.Send(new byte[8], SocketFlags.None, out _);
        return socket;
    }

    /// <summary>Sends at about <paramref name="perSecond"/> datagrams a second for <paramref name="duration"/>; returns how many were sent.</summary>
    public static long UdpAtRate(string namespacePath, string address, int port, int perSecond, TimeSpan duration)
    {
        var target = IPAddress.Parse(address);
        using var socket = NetworkNamespace.Run(namespacePath, () => new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp));
        socket.Connect(target, port);
        var data = new byte[8];
        long sent = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            long due = (long)(clock.Elapsed.TotalSeconds * perSecond);
            for (; sent < due; sent++)
                socket.Send(data, SocketFlags.None, out _);
            Thread.Sleep(1);
        }
        return sent;
    }

    /// <summary>One ICMP echo request (type 8) from a raw socket in the namespace.</summary>
    public static void IcmpEcho(string namespacePath, string address)
    {
        using var socket = NetworkNamespace.Run(namespacePath, () => new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Icmp));
        byte[] echo = [8, 0, 0xf7, 0xfe, 0, 1, 0, 0]; // type 8, code 0, checksum, id 1, seq 0
        try
        {
            socket.SendTo(echo, new IPEndPoint(IPAddress.Parse(address), 0));
        }
        catch (SocketException)
        {
            // EPERM: dropped by the rule under test
        }
    }
}
