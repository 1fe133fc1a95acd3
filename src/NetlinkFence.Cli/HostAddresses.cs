using System.Net;
using System.Net.NetworkInformation;
using NetlinkFence.Interop;

namespace NetlinkFence.Cli;

/// <summary>
/// The addresses of the interfaces of the namespace a policy is for (<c>--netns</c>, else this process's): a self-test flow
/// to one of them goes over loopback, which every policy allows (<c>lint</c>'s <c>selftest-fails</c>, <c>plan</c>'s
/// self-test preview, <c>apply</c>'s refusal of a deny flow the policy lets through).
/// </summary>
internal static class HostAddresses
{
    public static IReadOnlyCollection<IPAddress> Of(string? netns)
    {
        string? path = FlowProbe.NamespacePath(netns);
        return path is null ? Read() : NetworkNamespace.Run(path, Read);
    }

    /// <summary>The unicast addresses; none when the kernel will not list them (lint then judges as if the host had none).</summary>
    private static HashSet<IPAddress> Read()
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                .Select(a => WithoutScope(a.Address))
                .ToHashSet();
        }
        catch (NetworkInformationException)
        {
            return [];
        }
    }

    /// <summary>fe80::1%eth0 is fe80::1 in a flow (ScopeId throws for IPv4).</summary>
    private static IPAddress WithoutScope(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new IPAddress(address.GetAddressBytes()) : address;
}
