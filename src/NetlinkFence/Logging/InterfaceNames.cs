using System.Buffers.Binary;
using System.Globalization;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Logging;

/// <summary>
/// Interface names by index, asked over rtnetlink (<c>RTM_GETLINK</c>) in the namespace the packets were logged in,
/// and cached. Not /sys/class/net: that shows the namespace sysfs was mounted in, not the reader's. An index that does
/// not resolve (the interface is gone, or rtnetlink failed) is shown as <c>if7</c>. Not thread-safe.
/// </summary>
internal sealed class InterfaceNames : IDisposable
{
    private const int InterfaceInfoSize = 16; // struct ifinfomsg
    private readonly NetlinkConnection? _route;
    private readonly Dictionary<uint, string> _names = [];

    /// <param name="route">An rtnetlink connection in the logging namespace; null resolves nothing (names are <c>if7</c>).</param>
    public InterfaceNames(NetlinkConnection? route) => _route = route;

    /// <summary>Opens the rtnetlink socket inside <paramref name="namespacePath"/> (null: here).</summary>
    public static async Task<InterfaceNames> OpenAsync(string? namespacePath) =>
        new(new NetlinkConnection(new SocketTransport(await NetlinkSocket.OpenAsync(NetlinkProtocol.ROUTE, namespacePath).ConfigureAwait(false))));

    /// <summary>The name of interface <paramref name="index"/>; null for 0 (no interface).</summary>
    public string? Name(uint index)
    {
        if (index == 0)
            return null;
        if (!_names.TryGetValue(index, out string? name))
            _names[index] = name = Lookup(index) ?? "if" + index.ToString(CultureInfo.InvariantCulture);
        return name;
    }

    private string? Lookup(uint index)
    {
        if (_route is null)
            return null;
        Span<byte> buffer = stackalloc byte[64];
        var writer = new NetlinkWriter(buffer);
        var message = writer.BeginMessage((ushort)RtnetlinkMessageType.GETLINK, NetlinkMessageFlags.REQUEST, 0);
        var info = writer.Reserve(InterfaceInfoSize);
        info.Clear();
        BinaryPrimitives.WriteInt32LittleEndian(info[4..], (int)index); // ifi_index
        writer.EndMessage(message);
        string? name = null;
        try
        {
            _route.RequestAsync(writer.Written.ToArray(), "RTM_GETLINK", (in NetlinkMessage reply) =>
            {
                if (reply.Type != (ushort)RtnetlinkMessageType.NEWLINK)
                    return false;
                var attributes = reply.AttributesAfter(InterfaceInfoSize);
                while (attributes.TryRead(out var attribute))
                    if (attribute.Type == (ushort)InterfaceLinkAttribute.IFNAME)
                        name = attribute.String();
                return true;
            }, synchronous: true, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is NetlinkKernelException or NetlinkDecodeException or NetlinkTimeoutException or ErrnoException)
        {
            return null; // ENODEV: gone since it logged the packet
        }
        return name;
    }

    public void Dispose() => _route?.Dispose();
}
