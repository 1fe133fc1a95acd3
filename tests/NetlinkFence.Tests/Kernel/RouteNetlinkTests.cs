using System.Buffers.Binary;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>
/// The public writer and reader speak a protocol other than nfnetlink to the real kernel: an rtnetlink
/// <c>RTM_GETLINK</c> for a veth made by <c>ip</c> in a fresh namespace, and its <c>RTM_NEWLINK</c> reply.
/// </summary>
public sealed class RouteNetlinkTests
{
    private const ushort RtmNewLink = 16, RtmGetLink = 18;
    private const int IfInfoMessageSize = 16;
    private const ushort IflaIfName = 3, IflaMtu = 4, IflaLinkInfo = 18, IflaInfoKind = 1;

    [Fact]
    public void GetLink_by_name_reads_back_what_ip_configured()
    {
        using var ns = TestNamespace.Create();
        ns.Exec("ip", "link add nlfv0 type veth peer name nlfv1");
        ns.Exec("ip", "link set nlfv0 mtu 1400");
        int index = int.Parse(ns.Exec("cat", "/sys/class/net/nlfv0/ifindex").Trim());

        using var socket = NetlinkSocket.Open(NetlinkProtocol.ROUTE, ns.Path);
        Span<byte> request = stackalloc byte[128];
        var writer = new NetlinkWriter(request);
        var message = writer.BeginMessage(RtmGetLink, NetlinkMessageFlags.REQUEST, sequence: 4242);
        writer.Reserve(IfInfoMessageSize).Clear(); // ifi_index 0: look the link up by IFLA_IFNAME
        writer.WriteString(IflaIfName, "nlfv0");
        writer.EndMessage(message);
        socket.Send(writer.Written);

        Assert.True(socket.WaitReadable(30_000), "the kernel did not answer RTM_GETLINK within 30 s");
        var buffer = new byte[64 * 1024];
        int length = socket.Receive(buffer, wait: false, out bool truncated);
        Assert.False(truncated);

        var reader = new NetlinkMessageReader(buffer.AsSpan(0, length));
        Assert.True(reader.TryRead(out var reply));
        Assert.Equal(RtmNewLink, reply.Type);
        Assert.Equal(4242u, reply.Sequence);
        Assert.Equal(index, BinaryPrimitives.ReadInt32LittleEndian(reply.Payload[4..]));
        string? name = null, kind = null;
        uint? mtu = null;
        var attributes = reply.AttributesAfter(IfInfoMessageSize);
        while (attributes.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case IflaIfName: name = attribute.String(); break;
                case IflaMtu: mtu = attribute.U32(); break;
                case IflaLinkInfo:
                    var info = attribute.Nested();
                    while (info.TryRead(out var inner))
                        if (inner.Type == IflaInfoKind)
                            kind = inner.String();
                    break;
            }
        }
        Assert.Equal("nlfv0", name);
        Assert.Equal(1400u, mtu);
        Assert.Equal("veth", kind);
    }
}
