using System.Net;
using System.Net.Sockets;

namespace NetlinkFence.Logging;

/// <summary>
/// One packet the policy denied (or, in audit mode, logged and accepted), as the kernel reported it over NFLOG.
/// Whatever could not be read from a truncated or unknown packet is null; a record is never refused for it.
/// </summary>
public sealed record DenialRecord
{
    /// <summary>When the kernel logged the packet (its timestamp when sent, else when it was received).</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary><see cref="AddressFamily.InterNetwork"/>, <see cref="AddressFamily.InterNetworkV6"/>, or Unspecified.</summary>
    public AddressFamily Family { get; init; }

    /// <summary>The layer-4 protocol (TCP, UDP, ICMP, ICMPv6, or another IANA number).</summary>
    public ProtocolType Protocol { get; init; }

    /// <summary>Source address.</summary>
    public IPAddress? Source { get; init; }

    /// <summary>Destination address.</summary>
    public IPAddress? Destination { get; init; }

    /// <summary>Source port (TCP, UDP).</summary>
    public ushort? SourcePort { get; init; }

    /// <summary>Destination port (TCP, UDP).</summary>
    public ushort? DestinationPort { get; init; }

    /// <summary>ICMP or ICMPv6 type.</summary>
    public byte? IcmpType { get; init; }

    /// <summary>ICMP or ICMPv6 code.</summary>
    public byte? IcmpCode { get; init; }

    /// <summary>User id of the sending socket (locally generated packets only).</summary>
    public uint? Uid { get; init; }

    /// <summary>Group id of the sending socket.</summary>
    public uint? Gid { get; init; }

    /// <summary>The user name of <see cref="Uid"/> when it resolves.</summary>
    public string? UserName { get; init; }

    /// <summary>
    /// The cgroup v2 id of the socket that sent the packet (the cgroup it was created in), found by looking the socket
    /// up over sock_diag when the record arrived. Null when that does not apply (input, ICMP, no local socket) or the
    /// socket was already closed: unknown, never guessed.
    /// </summary>
    public ulong? CgroupId { get; init; }

    /// <summary>
    /// True when the sending socket was looked up for its cgroup (an egress TCP or UDP packet sent from a local socket,
    /// see <see cref="NflogReaderOptions.SocketCgroups"/>): then a null <see cref="CgroupId"/> means the socket was
    /// already closed, and the cgroup is unknown.
    /// </summary>
    public bool CgroupLookedUp { get; init; }

    /// <summary>
    /// The path of <see cref="CgroupId"/> under the cgroup2 mount (<c>/system.slice/chrony.service</c>); null when the id
    /// is unknown, or the cgroup was removed before it could be named.
    /// </summary>
    public string? Cgroup { get; init; }

    /// <summary>The systemd unit <see cref="Cgroup"/> belongs to (<c>chrony.service</c>), when its path names one.</summary>
    public string? Unit { get; init; }

    /// <summary>Input interface name (or index as <c>if7</c> when the name is unknown).</summary>
    public string? InputInterface { get; init; }

    /// <summary>Output interface name (or index as <c>if7</c> when the name is unknown).</summary>
    public string? OutputInterface { get; init; }

    /// <summary>The log prefix of the rule that logged the packet.</summary>
    public string Prefix { get; init; } = "";

    /// <summary>The chain that logged it (e.g. <c>egress_denied</c>), derived from the prefix and hook.</summary>
    public string? Chain { get; init; }

    /// <summary><c>drop</c>, or <c>accept</c> for an audit-mode record.</summary>
    public string Verdict { get; init; } = "drop";

    /// <summary>The NFLOG group sequence number (gaps are lost records).</summary>
    public uint? Sequence { get; init; }

    /// <summary>Length of the packet on the wire.</summary>
    public int PacketLength { get; init; }

    /// <summary>True when the copied bytes ended before the headers this record would have read.</summary>
    public bool Truncated { get; init; }
}
