using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using NetlinkFence.Interop;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence probe [--policy FILE] tcp:HOST:PORT udp:HOST:PORT ...</c>: tries each flow from inside the
/// namespace and reports whether the firewall let it through; with a policy, also which entry decided.
/// A TCP connect that is accepted or refused by the peer got through; silence until the timeout means dropped.
/// </summary>
internal static class ProbeVerb
{
    public static Command Create()
    {
        var targets = new Argument<string[]>("flows") { Description = "flows to try, as tcp:HOST:PORT or udp:HOST:PORT ([v6] in brackets)", Arity = ArgumentArity.OneOrMore };
        var policy = new Option<string?>("--policy") { Description = "explain each result with this policy's entries" };
        var timeout = new Option<int>("--timeout-ms") { Description = "how long to wait for an answer", DefaultValueFactory = _ => 1000 };
        var command = new Command("probe", "try flows from inside the namespace and report allowed or denied, and why") { targets, policy, timeout };
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(async () =>
        {
            var compiled = parse.GetValue(policy) is { } path ? await PolicyFiles.CompileAsync(path, checkOwnership: false, cancellationToken) : null;
            string? ns = parse.GetValue(CommonOptions.NetworkNamespace);
            string? nsPath = ns is null ? null : ns.StartsWith('/') ? ns : "/run/netns/" + ns;
            foreach (string target in parse.GetValue(targets)!)
            {
                var (protocol, address, port) = Parse(target);
                string outcome = await Try(nsPath, protocol, address, port, parse.GetValue(timeout));
                bool passed = outcome is not ("no answer" or "blocked by the local firewall, EPERM");
                string why = compiled is null ? "" : " -- policy: " + FlowExplainer.Explain(compiled, protocol, address, port).Reason;
                Console.WriteLine($"{target,-28} {(passed ? "ALLOWED" : "DENIED "),-8} ({outcome}){why}");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static (ProtocolType, IPAddress, ushort) Parse(string target)
    {
        var parts = target.Split(':', 2);
        int lastColon = parts.Length == 2 ? parts[1].LastIndexOf(':') : -1;
        if (parts.Length != 2 || parts[0] is not ("tcp" or "udp") || lastColon < 0
            || !IPAddress.TryParse(parts[1][..lastColon].Trim('[', ']'), out var address)
            || !ushort.TryParse(parts[1][(lastColon + 1)..], out ushort port) || port == 0)
            throw new ArgumentException($"'{target}' is not a flow; write tcp:203.0.113.50:443 or udp:[2001:db8::53]:53");
        return (parts[0] == "tcp" ? ProtocolType.Tcp : ProtocolType.Udp, address, port);
    }

    private static async Task<string> Try(string? namespacePath, ProtocolType protocol, IPAddress address, ushort port, int timeoutMilliseconds)
    {
        Socket Create() => protocol == ProtocolType.Tcp
            ? new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var socket = namespacePath is null ? Create() : NetworkNamespace.Run(namespacePath, Create);
        using var timeout = new CancellationTokenSource(timeoutMilliseconds);
        try
        {
            if (protocol == ProtocolType.Tcp)
            {
                await socket.ConnectAsync(address, port, timeout.Token);
                return "connected";
            }
            await socket.ConnectAsync(address, port, timeout.Token);
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
        catch (OperationCanceledException)
        {
            return "no answer";
        }
    }
}
