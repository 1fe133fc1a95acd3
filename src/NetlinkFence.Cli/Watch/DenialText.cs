using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NetlinkFence.Logging;

namespace NetlinkFence.Cli.Watch;

/// <summary>How a denial's parts are written in text lines: protocol names, endpoints, the user.</summary>
internal static class DenialText
{
    public static string Protocol(DenialRecord record) => record.Protocol switch
    {
        ProtocolType.Tcp => "tcp",
        ProtocolType.Udp => "udp",
        ProtocolType.Icmp => "icmp",
        ProtocolType.IcmpV6 => "icmpv6",
        ProtocolType.Unknown => "?",
        var other => "proto-" + ((int)other).ToString(CultureInfo.InvariantCulture),
    };

    public static string Endpoint(IPAddress? address, ushort? port)
    {
        string a = address?.ToString() ?? "?";
        if (port is null)
            return a;
        return address?.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{a}]:{port}" : $"{a}:{port}";
    }

    /// <summary><c>uid=118(_chrony)</c>, <c>uid=1000</c>, or empty for a packet with no sending socket.</summary>
    public static string User(DenialRecord record) =>
        record.Uid is not { } uid ? "" : record.UserName is { } name ? $"uid={uid}({name})" : $"uid={uid}";

    /// <summary>
    /// <c>cgroup=/system.slice/chrony.service unit=chrony.service</c>, <c>cgroup=unknown</c> (the sending socket was
    /// closed before it could be looked up), <c>cgroup-id=1234</c> (the cgroup was removed since), or empty (no
    /// local sending socket: input, ICMP).
    /// </summary>
    public static string Cgroup(DenialRecord record) => record switch
    {
        { Cgroup: { } path, Unit: { } unit } => $"cgroup={path} unit={unit}",
        { Cgroup: { } path } => $"cgroup={path}",
        { CgroupId: { } id } => $"cgroup-id={id}",
        { CgroupLookedUp: true } => "cgroup=unknown",
        _ => "",
    };

    /// <summary><c>tcp 10.0.0.5 -> 203.0.113.50:443</c>, <c>icmp 10.0.0.5 -> 192.0.2.1 type 8/0</c>.</summary>
    public static string Flow(DenialRecord record)
    {
        string icmp = record.IcmpType is { } type ? $" type {type}/{record.IcmpCode}" : "";
        return $"{Protocol(record)} {record.Source?.ToString() ?? "?"} -> {Endpoint(record.Destination, record.DestinationPort)}{icmp}";
    }
}
