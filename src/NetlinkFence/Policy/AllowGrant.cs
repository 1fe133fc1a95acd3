using System.Net;
using System.Net.Sockets;

namespace NetlinkFence.Policy;

/// <summary>
/// One thing an allow set must let through: an entry's destination (egress) or source (input) network, one protocol
/// and a port range, until <see cref="Expires"/> (null: permanent). Grants of different entries may overlap; the
/// set's element layout makes them disjoint.
/// </summary>
/// <param name="Entry">The allow entry's name.</param>
/// <param name="Network">The peer network.</param>
/// <param name="Protocol">TCP or UDP.</param>
/// <param name="Ports">The port range.</param>
/// <param name="Expires">When the kernel must stop allowing it; null: never.</param>
/// <param name="Scope">Who may use it (a cgroup or a user, from the entry's <c>by:</c>); null: every process.</param>
public sealed record AllowGrant(string Entry, IPNetwork Network, ProtocolType Protocol, PortRange Ports, DateTimeOffset? Expires = null, GrantScope? Scope = null);
