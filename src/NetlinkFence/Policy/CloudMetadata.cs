using System.Net;

namespace NetlinkFence.Policy;

/// <summary>
/// The cloud providers' instance metadata and host-agent endpoints, where a virtual machine's credentials, user data
/// and agent settings are served: the credential-theft path of a compromised agent. Some egress tools allow them
/// always (harden-runner allows 169.254.169.254 and Azure's 168.63.129.16); here a DNS answer never opens one
/// (<see cref="AnswerScreen"/>) and <c>lint</c> warns when an entry reaches one (<c>metadata-endpoint</c>).
/// </summary>
internal static class CloudMetadata
{
    public static readonly (IPAddress Address, string What)[] Endpoints =
    [
        (IPAddress.Parse("169.254.169.254"), "the instance metadata service (AWS, Google Cloud, Azure, Oracle Cloud, OpenStack, DigitalOcean)"),
        (IPAddress.Parse("fd00:ec2::254"), "AWS's instance metadata service (IPv6)"),
        (IPAddress.Parse("fd20:ce::254"), "Google Cloud's metadata server (IPv6)"),
        (IPAddress.Parse("fd00:c1::a9fe:a9fe"), "Oracle Cloud's instance metadata service (IPv6)"),
        (IPAddress.Parse("100.100.100.200"), "Alibaba Cloud's instance metadata service"),
        (IPAddress.Parse("168.63.129.16"), "Azure's WireServer (the host agent's settings and certificates)"),
    ];

    /// <summary>The endpoints' addresses, for a message: <c>169.254.169.254, fd00:ec2::254, ...</c>.</summary>
    public static string Addresses => string.Join(", ", Endpoints.Select(e => e.Address));

    /// <summary>What <paramref name="address"/> is when it is one of the endpoints; null otherwise.</summary>
    public static string? What(IPAddress address)
    {
        // A loop, not LINQ: every address of every DNS answer comes through here, and a refresh round allocates nothing per address.
        foreach (var (endpoint, what) in Endpoints)
        {
            if (endpoint.Equals(address))
                return what;
        }
        return null;
    }
}
