using System.Net;
using System.Net.Sockets;
using NetlinkFence.Interop;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>What trying one flow showed.</summary>
/// <param name="Flow">The flow.</param>
/// <param name="Passed">Whether the firewall let it through (an answer, or a refusal from the peer).</param>
/// <param name="Outcome">What happened, e.g. <c>connected</c>, <c>reached the host, port closed</c>, <c>no answer</c>.</param>
internal sealed record ProbeResult(ExpectedFlow Flow, bool Passed, string Outcome);

/// <summary>
/// Tries flows from inside a network namespace (sockets created there by <see cref="NetworkNamespace.Run"/>).
/// A TCP connect that is accepted or refused by the peer (RST) got through the firewall; silence until the
/// timeout, or EPERM from the local firewall, means dropped. UDP: an answer or an ICMP port-unreachable got
/// through; a silent service looks dropped.
/// </summary>
internal static class FlowProbe
{
    /// <summary><c>/run/netns/NAME</c> for a name, the path itself for a path, null for the current namespace.</summary>
    public static string? NamespacePath(string? netns) => netns is null ? null : netns.StartsWith('/') ? netns : "/run/netns/" + netns;

    public static async Task<ProbeResult> TryAsync(string? namespacePath, ExpectedFlow flow, int timeoutMilliseconds, CancellationToken cancellationToken = default)
    {
        string outcome = await OutcomeAsync(namespacePath, flow.Protocol, flow.Address, flow.Port, timeoutMilliseconds, cancellationToken);
        return new ProbeResult(flow, outcome is not ("no answer" or "blocked by the local firewall, EPERM"), outcome);
    }

    private static async Task<string> OutcomeAsync(string? namespacePath, ProtocolType protocol, IPAddress address, ushort port, int timeoutMilliseconds, CancellationToken cancellationToken)
    {
        Socket Create() => protocol == ProtocolType.Tcp
            ? new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var socket = namespacePath is null ? Create() : NetworkNamespace.Run(namespacePath, Create);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(timeoutMilliseconds);
        try
        {
            await socket.ConnectAsync(address, port, timeout.Token);
            if (protocol == ProtocolType.Tcp)
                return "connected";
            await socket.SendAsync("netlinkfence probe"u8.ToArray(), SocketFlags.None, timeout.Token);
            await socket.ReceiveAsync(new byte[512], SocketFlags.None, timeout.Token);
            return "answered";
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
        {
            return "reached the host, port closed";
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            return "blocked by the local firewall, EPERM";
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.TimedOut)
        {
            return "no answer";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "no answer";
        }
    }
}
