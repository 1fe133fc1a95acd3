using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using NetlinkFence.Nftables;

// Usage: nlf-world listen tcp:PORT|udp:PORT ...   serve until killed (prints "listening" once all are bound)
//        nlf-world sleep                          do nothing until killed (keeps a container running)
//        nlf-world tamper TABLE ADDRESS PORT      what an intruder with CAP_NET_ADMIN might do: insert
//                                                 "ip daddr ADDRESS tcp dport PORT accept" at the head of the
//                                                 table's output chain, over netlink, without netlinkfence
//        nlf-world nflog GROUP MILLISECONDS       bind NFLOG group GROUP, print "ready", then one line
//                                                 "nflog prefix=PREFIX" per logged packet, for that long
// As a container's PID 1 nothing ends it by default: exit at once on SIGTERM, so `docker stop` takes no 10 s.
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => Environment.Exit(0));
if (args is ["sleep"])
{
    await Task.Delay(Timeout.Infinite);
    return 0;
}
if (args is ["tamper", var table, var address, var portText])
{
    var rule = new RuleBuilder(NftFamily.Inet, table, "output")
        .Destination(IPAddress.Parse(address))
        .DestinationPort(ProtocolType.Tcp, ushort.Parse(portText, System.Globalization.CultureInfo.InvariantCulture))
        .Accept(comment: "tampered");
    await using var nft = await NftablesConnection.OpenAsync(new());
    var result = await nft.CommitAsync(new Transaction().InsertRule(rule));
    Console.WriteLine($"tampered: generation {result.GenerationAfter}");
    return 0;
}
if (args is ["nflog", var groupText, var millisecondsText])
    return Nflog.Run(ushort.Parse(groupText, System.Globalization.CultureInfo.InvariantCulture),
        int.Parse(millisecondsText, System.Globalization.CultureInfo.InvariantCulture));
if (args.Length < 2 || args[0] != "listen")
{
    Console.Error.WriteLine("usage: nlf-world listen tcp:PORT|udp:PORT ... | nlf-world sleep | nlf-world tamper TABLE ADDRESS PORT");
    return 2;
}
var servers = new List<Task>();
foreach (string spec in args[1..])
{
    var parts = spec.Split(':');
    if (parts.Length != 2 || !ushort.TryParse(parts[1], out ushort port) || parts[0] is not ("tcp" or "udp"))
    {
        Console.Error.WriteLine($"not a listener: {spec}");
        return 2;
    }
    if (parts[0] == "tcp")
    {
        var listener = new TcpListener(IPAddress.Any, port);
        listener.Start();
        servers.Add(ServeTcp(listener));
    }
    else
    {
        var udp = new UdpClient(new IPEndPoint(IPAddress.Any, port));
        servers.Add(ServeUdp(udp));
    }
}
Console.WriteLine("listening on " + string.Join(' ', args[1..]));
await Task.WhenAll(servers);
return 0;

static async Task ServeTcp(TcpListener listener)
{
    while (true)
    {
        using var client = await listener.AcceptTcpClientAsync();
        // Accepting is the proof that the SYN got through; close at once.
    }
}

static async Task ServeUdp(UdpClient udp)
{
    while (true)
    {
        var received = await udp.ReceiveAsync();
        await udp.SendAsync(received.Buffer, received.RemoteEndPoint);
    }
}
