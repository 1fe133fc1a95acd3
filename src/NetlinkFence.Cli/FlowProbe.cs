using System.Net;
using System.Net.Sockets;
using NetlinkFence.Interop;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>What a probe saw on its socket, before anyone asks which firewall (if any) caused it.</summary>
internal enum ProbeSignal
{
    /// <summary>Connected, answered, or refused by the peer (RST, ICMP port unreachable): the packet got out.</summary>
    GotThrough,

    /// <summary>Silence until the timeout: dropped somewhere, or a service that never answers.</summary>
    NoAnswer,

    /// <summary>EPERM from the kernel: a local firewall (any table, or a cgroup filter) dropped the packet.</summary>
    LocalDrop,

    /// <summary>
    /// ENETUNREACH, EHOSTUNREACH or EACCES: routing refused before any packet left, or an ICMP error came back (a
    /// router's, or this policy's reject, <c>egress.deny: reject</c>, which only egress_denied's counter can tell).
    /// </summary>
    NotTheFirewall,

    /// <summary>The probe could not be made at all (EADDRNOTAVAIL with IPv6 off, EINVAL, no socket, ...).</summary>
    CouldNotRun,
}

/// <summary>What trying one flow showed.</summary>
/// <param name="Flow">The flow.</param>
/// <param name="Signal">What kind of result it was.</param>
/// <param name="Outcome">In words, with the errno, e.g. <c>connected</c>, <c>unreachable (ENETUNREACH)</c>.</param>
/// <param name="Unmarked">Why the probe's packets did not carry <see cref="PolicyCompiler.SelfTestMark"/> (no
/// CAP_NET_ADMIN for SO_MARK), so the self-test counter cannot show them; null when they did.</param>
internal sealed record ProbeResult(ExpectedFlow Flow, ProbeSignal Signal, string Outcome, string? Unmarked = null);

/// <summary>
/// Tries flows from inside a network namespace (sockets created there by <see cref="NetworkNamespace.Run{T}(string, Func{T})"/>) and
/// says what the socket saw, never which firewall caused it (that is <see cref="ProbeJudge"/>'s job, with the
/// egress_denied chain's self-test counter). Every probe socket carries <see cref="PolicyCompiler.SelfTestMark"/>
/// (SO_MARK): the kernel copies it to every packet the socket sends (SYN retransmits and datagrams alike), and the
/// compiled policy counts marked packets apart. Never throws except when the caller cancels: a probe that cannot
/// run is a result.
/// </summary>
internal static class FlowProbe
{
    /// <summary><c>/run/netns/NAME</c> for a name, the path itself for a path, null for the current namespace.</summary>
    /// <summary>The namespace file <c>--netns</c> names (the library's resolution, with its checks), or null.</summary>
    public static string? NamespacePath(string? netns) => new NftablesConnectionOptions { NetworkNamespace = netns }.NamespacePath;

    public static async Task<ProbeResult> TryAsync(string? namespacePath, ExpectedFlow flow, int timeoutMilliseconds, CancellationToken cancellationToken = default)
    {
        try
        {
            var (signal, outcome, unmarked) = await SignalAsync(namespacePath, flow, timeoutMilliseconds, cancellationToken);
            return new ProbeResult(flow, signal, outcome, unmarked);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            string errno = e is SocketException s ? $" ({ErrnoName(s.NativeErrorCode)})" : "";
            return new ProbeResult(flow, ProbeSignal.CouldNotRun, $"could not run: {e.Message}{errno}");
        }
    }

    private static async Task<(ProbeSignal, string, string?)> SignalAsync(string? namespacePath, ExpectedFlow flow, int timeoutMilliseconds, CancellationToken cancellationToken)
    {
        // An IPv4-mapped address is IPv4 on the wire; an IPv6 socket (V6ONLY) could never reach it.
        var address = flow.Address.IsIPv4MappedToIPv6 ? flow.Address.MapToIPv4() : flow.Address;
        Socket Create() => flow.Protocol == ProtocolType.Tcp
            ? new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var socket = namespacePath is null ? Create() : NetworkNamespace.Run(namespacePath, Create);
        string? unmarked = Mark(socket);
        var (signal, outcome) = await ConnectAsync(socket, address, flow, timeoutMilliseconds, cancellationToken);
        return (signal, outcome, unmarked);
    }

    /// <summary>Sets SO_MARK to <see cref="PolicyCompiler.SelfTestMark"/>; null when set, else why not.</summary>
    private static string? Mark(Socket socket)
    {
        const int SolSocket = 1, SoMark = 36; // asm-generic/socket.h
        try
        {
            socket.SetRawSocketOption(SolSocket, SoMark, BitConverter.GetBytes(PolicyCompiler.SelfTestMark));
            return null;
        }
        catch (SocketException e)
        {
            return $"probe not marked ({ErrnoName(e.NativeErrorCode)}: SO_MARK needs CAP_NET_ADMIN)";
        }
    }

    private static async Task<(ProbeSignal, string)> ConnectAsync(Socket socket, IPAddress address, ExpectedFlow flow, int timeoutMilliseconds,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(timeoutMilliseconds);
        bool sending = false;
        try
        {
            await socket.ConnectAsync(address, flow.Port, timeout.Token);
            if (flow.Protocol == ProtocolType.Tcp)
                return (ProbeSignal.GotThrough, "connected");
            sending = true;
            await socket.SendAsync("netlinkfence probe"u8.ToArray(), SocketFlags.None, timeout.Token);
            await socket.ReceiveAsync(new byte[512], SocketFlags.None, timeout.Token);
            return (ProbeSignal.GotThrough, "answered");
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
        {
            return (ProbeSignal.GotThrough, "reached the host, port closed");
        }
        // .NET reports EPERM and EACCES alike (AccessDenied). Where it happens tells them apart: connect() only looks
        // up the route (EACCES: a 'prohibit' route, or a broadcast address without SO_BROADCAST; over IPv6 also an
        // ICMPv6 administratively-prohibited error, which the judge tells by the counter), while a firewall drop in the
        // output path fails the send (EPERM; a TCP connect ignores it and retransmits until the timeout).
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied && sending)
        {
            return (ProbeSignal.LocalDrop, "blocked by a local firewall (EPERM)");
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            return (ProbeSignal.NotTheFirewall, "refused (EACCES: a 'prohibit' route, a broadcast address, or ICMPv6 administratively prohibited)");
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.HostUnreachable or SocketError.NetworkUnreachable)
        {
            return (ProbeSignal.NotTheFirewall, $"unreachable ({ErrnoName(e.NativeErrorCode)})");
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            return (ProbeSignal.NoAnswer, "no answer");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (ProbeSignal.NoAnswer, "no answer");
        }
    }

    private static string ErrnoName(int errno) => errno switch
    {
        1 => "EPERM",
        13 => "EACCES",
        22 => "EINVAL",
        97 => "EAFNOSUPPORT",
        99 => "EADDRNOTAVAIL",
        101 => "ENETUNREACH",
        113 => "EHOSTUNREACH",
        _ => $"errno {errno}",
    };
}
