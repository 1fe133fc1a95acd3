using System.Runtime.InteropServices;

namespace NetlinkFence.Interop;

/// <summary><c>struct sockaddr_nl</c> from &lt;linux/netlink.h&gt; (Tmds.LibC lacks it).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SockaddrNl
{
    public ushort Family;
    public ushort Pad;
    public uint PortId;
    public uint Groups;
}
