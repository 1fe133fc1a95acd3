using System.Net;
using System.Net.Sockets;
using System.Text;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Runtime;

namespace NetlinkFence.Logging;

/// <summary>
/// Turns an <see cref="NflogPacket"/> into a <see cref="DenialRecord"/>: the consumer layer, where addresses and
/// strings are allocated. Interface and user names are cached; so is the last prefix, which rarely changes. An egress
/// TCP/UDP record also gets the cgroup (and unit) of its sending socket, looked up when the record is made (the socket
/// may be gone a moment later). Not thread-safe.
/// </summary>
internal sealed class DenialRecordFactory(InterfaceNames interfaces, UserNames users, SocketCgroupLookup? sockets = null, CgroupHierarchy? cgroups = null)
{
    /// <summary>The chain the compiled policy logs egress denials from (its output chain jumps there).</summary>
    public const string EgressDeniedChain = "egress_denied";

    /// <summary>The chain the compiled policy logs input denials from.</summary>
    public const string IngressDeniedChain = "ingress_denied";

    private byte[] _prefixBytes = [];
    private string _prefix = "";

    /// <summary>Starts the records of one NFLOG datagram (records of one batch share socket lookups).</summary>
    public void BeginBatch() => sockets?.BeginBatch();

    public DenialRecord Create(in NflogPacket packet, DateTimeOffset now)
    {
        string prefix = Prefix(packet.Prefix);
        string? chain = Chain(packet.Hook, prefix);
        bool lookedUp = sockets is not null && chain == EgressDeniedChain && SocketCgroupLookup.Applies(packet);
        ulong? cgroupId = lookedUp ? sockets!.Find(packet) : null;
        string? cgroup = cgroupId is { } id ? CgroupPath(id) : null;
        return new DenialRecord
        {
            Time = packet.TimestampMicroseconds >= 0 ? DateTimeOffset.UnixEpoch.AddTicks(packet.TimestampMicroseconds * 10) : now,
            Family = packet.Family,
            Protocol = packet.Protocol >= 0 ? (ProtocolType)packet.Protocol : ProtocolType.Unknown,
            Source = packet.Source.IsEmpty ? null : new IPAddress(packet.Source),
            Destination = packet.Destination.IsEmpty ? null : new IPAddress(packet.Destination),
            SourcePort = packet.SourcePort >= 0 ? (ushort)packet.SourcePort : null,
            DestinationPort = packet.DestinationPort >= 0 ? (ushort)packet.DestinationPort : null,
            IcmpType = packet.IcmpType >= 0 ? (byte)packet.IcmpType : null,
            IcmpCode = packet.IcmpCode >= 0 ? (byte)packet.IcmpCode : null,
            Uid = packet.Uid >= 0 ? (uint)packet.Uid : null,
            Gid = packet.Gid >= 0 ? (uint)packet.Gid : null,
            UserName = packet.Uid >= 0 ? users.Name((uint)packet.Uid) : null,
            InputInterface = interfaces.Name(packet.InputIndex),
            OutputInterface = interfaces.Name(packet.OutputIndex),
            Prefix = prefix,
            CgroupLookedUp = lookedUp,
            CgroupId = cgroupId,
            Cgroup = cgroup,
            Unit = cgroup is null ? null : CgroupHierarchy.UnitOf(cgroup),
            Chain = chain,
            Verdict = prefix == Policy.PolicyCompiler.AuditLogPrefix ? "accept" : "drop", // learn --audit logs, then accepts
            Sequence = packet.Sequence >= 0 ? (uint)packet.Sequence : null,
            PacketLength = packet.PacketLength,
            Truncated = packet.Truncated,
        };
    }

    /// <summary>
    /// The compiled policy logs from egress_denied (jumped to from the output hook) and ingress_denied (from input);
    /// its input prefix says INGRESS or starts with INPUT- (<see cref="Policy.LogSettings.InputPrefix"/>). Null for any other hook.
    /// </summary>
    internal static string? Chain(int hook, string prefix) => hook switch
    {
        (int)NetfilterInetHook.LOCAL_OUT => EgressDeniedChain,
        (int)NetfilterInetHook.LOCAL_IN => IngressDeniedChain,
        -1 when prefix.Contains("INGRESS", StringComparison.Ordinal) || prefix.StartsWith("INPUT-", StringComparison.Ordinal) => IngressDeniedChain,
        -1 when prefix.Length > 0 => EgressDeniedChain,
        _ => null,
    };

    /// <summary>The id's path under the cgroup2 mount, or null (no cgroup2 mount, or the cgroup was removed since).</summary>
    private string? CgroupPath(ulong id)
    {
        try
        {
            return cgroups?.PathOf(id);
        }
        catch (ErrnoException)
        {
            return null; // a directory this process may not stat
        }
    }

    private string Prefix(ReadOnlySpan<byte> bytes)
    {
        if (!bytes.SequenceEqual(_prefixBytes))
        {
            _prefixBytes = bytes.ToArray();
            _prefix = Encoding.UTF8.GetString(bytes);
        }
        return _prefix;
    }
}
