using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Traffic;

/// <summary>
/// The limit README states and <c>status</c> reports (its "packet sockets" line): a process with CAP_NET_RAW can
/// send and receive through an AF_PACKET socket, which no nftables table's inet hooks see. Shown with real traffic:
/// the policy denies a UDP flow to the world, and the same datagram, written as a whole Ethernet frame on a packet
/// socket, reaches the world's echo server, whose answer the packet socket reads. If a kernel (or a later version of
/// the policy) ever stops this, the test fails and the README's warning must change with it.
/// </summary>
public sealed class PacketSocketBypassTests
{
    private const string World = "198.51.100.9";
    private const int Port = 5353;

    // Python's standard library only: an Ethernet, IPv4 and UDP frame sent on the agent's veth, then every IPv4 frame
    // read until the echo of it comes back (sent again each second: the world's first answer may wait for ARP).
    private const string Script = """
        import os, socket, struct, sys, time
        dst_mac = bytes.fromhex(sys.argv[1].replace(':', ''))
        src, dst, port = socket.inet_aton(sys.argv[2]), socket.inet_aton(sys.argv[3]), int(sys.argv[4])
        ifname = [n for _, n in socket.if_nameindex() if n != 'lo'][0]
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
        s.bind((ifname, 0))
        sport, payload = 40000 + os.getpid() % 20000, b'around the table'
        def checksum(b):
            b += b'\0' * (len(b) % 2)
            t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
            t = (t >> 16) + (t & 0xffff)
            return ~(t + (t >> 16)) & 0xffff
        length = 8 + len(payload)
        udp = struct.pack('!HHHH', sport, port, length, 0) + payload
        udp = udp[:6] + struct.pack('!H', checksum(src + dst + struct.pack('!BBH', 0, 17, length) + udp) or 0xffff) + udp[8:]
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + length, 1, 0, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack('!H', checksum(ip)) + ip[12:]
        frame = dst_mac + s.getsockname()[4] + b'\x08\x00' + ip + udp
        s.settimeout(0.2)
        deadline, resend = time.time() + 20, 0
        while time.time() < deadline:
            if time.time() >= resend:
                s.send(frame)
                resend = time.time() + 1
            try:
                data = s.recv(2048)
            except socket.timeout:
                continue
            header = 14 + (data[14] & 0xf) * 4
            if len(data) >= header + 8 and data[23] == 17 and data[26:30] == dst and data[30:34] == src \
                    and struct.unpack('!HH', data[header:header + 4]) == (port, sport) and data[header + 8:].startswith(payload):
                print('echo')
                sys.exit(0)
        sys.exit(1)
        """;

    [Fact]
    public void A_packet_socket_sends_and_receives_what_the_table_denies()
    {
        using var net = new AgentAndWorld(World);
        net.ListenUdp(World, Port);
        string policy = TestScratch.PathFor("nlf-packet-socket", ".yaml");
        string script = TestScratch.PathFor("nlf-packet-socket", ".py");
        File.WriteAllText(policy, "version: 1\negress:\n  allow:\n    - { name: control, to: [203.0.113.50], tcp: [443] }\n");
        File.WriteAllText(script, Script);
        try
        {
            Assert.True(net.UdpReachable(World, Port, AgentAndWorld.ExpectedThroughMs), "the echo server does not answer without a policy");
            var apply = CliRunner.Run($"apply {policy} --netns {net.Agent.Name}");
            Assert.True(apply.ExitCode == 0, apply.Stderr);
            Assert.False(net.UdpReachable(World, Port), "the policy lets the UDP flow through");

            string link = net.World.Exec("ip", "-o link show type veth").Split(':')[1].Trim().Split('@')[0];
            string mac = net.World.Exec("cat", $"/sys/class/net/{link}/address").Trim();
            var bypass = TestNamespace.TryRun("ip", $"netns exec {net.Agent.Name} python3 {script} {mac} {AgentAndWorld.AgentV4} {World} {Port}");
            Assert.True(bypass.ExitCode == 0 && bypass.Stdout.Trim() == "echo",
                $"the packet socket did not get its datagram answered (exit {bypass.ExitCode}): {bypass.Stderr}{bypass.Stdout}");
            // And the table is still what it denied with: the packet socket went around it, not through it.
            Assert.False(net.UdpReachable(World, Port));
        }
        finally
        {
            File.Delete(policy);
            File.Delete(script);
        }
    }
}
