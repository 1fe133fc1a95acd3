using System.Net;
using System.Net.Sockets;

namespace NetlinkFence.Policy.Learning;

/// <summary>Where a suggested entry's name came from.</summary>
public enum NameSource
{
    /// <summary>No name is known: the entry is named after the address.</summary>
    None,
    /// <summary>A <c>hosts:</c> pin of the policy (the entry's <c>to:</c> is that name).</summary>
    Pin,
    /// <summary>A name the policy resolves through DNS (its current addresses include this one).</summary>
    Resolved,
    /// <summary>A reverse (PTR) lookup through the policy's resolvers.</summary>
    ReverseDns,
}

/// <summary>One denied port of a suggested entry, with how often and when it was denied.</summary>
/// <param name="Protocol">TCP or UDP.</param>
/// <param name="Port">The destination port.</param>
/// <param name="Count">Denials seen.</param>
/// <param name="FirstSeen">The first denial's time.</param>
/// <param name="LastSeen">The last denial's time.</param>
/// <param name="Users">Who sent them (user name, else <c>uid=N</c>), as the kernel reported the sending socket.</param>
public sealed record SuggestedPort(ProtocolType Protocol, ushort Port, long Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, IReadOnlyList<string> Users)
{
    /// <summary>
    /// The sending sockets' cgroups: the unit name when the path names one, else the path; <c>cgroup unknown</c> for
    /// denials whose socket was closed before it could be looked up. At most 8.
    /// </summary>
    public IReadOnlyList<string> Cgroups { get; init; } = [];

    /// <summary><c>udp/123</c>.</summary>
    public string Flow => $"{(Protocol == ProtocolType.Tcp ? "tcp" : "udp")}/{Port}";
}

/// <summary>A new <c>egress.allow</c> entry suggested from denials: one destination (a name or an address) and its ports.</summary>
/// <param name="Name">The entry name (valid and unique in the policy).</param>
/// <param name="To">The <c>to:</c> values: a pinned host name, or the denied addresses.</param>
/// <param name="Addresses">The denied addresses it covers.</param>
/// <param name="HostName">The destination's name when known.</param>
/// <param name="NameSource">Where <paramref name="HostName"/> came from.</param>
/// <param name="Ports">The denied ports, TCP first, each with its count and first/last seen.</param>
public sealed record SuggestedEntry(string Name, IReadOnlyList<string> To, IReadOnlyList<IPAddress> Addresses, string? HostName, NameSource NameSource, IReadOnlyList<SuggestedPort> Ports)
{
    /// <summary>
    /// The suggested <c>by:</c>: who sent these denials, so that only they may use the entry. A <c>.service</c> unit
    /// when the sending socket's cgroup belongs to one, else its cgroup path, else (the root cgroup, or no cgroup could
    /// be read) the user; the users of denials whose cgroup is unknown are only used when no cgroup is known at all.
    /// Empty when nothing names the senders, or more than <see cref="DenialLearner.MaxScopes"/> did.
    /// </summary>
    public IReadOnlyList<ServiceScope> By { get; init; } = [];

    /// <summary>Denials whose sending socket was closed before its cgroup was read (not in <see cref="By"/> when any cgroup is).</summary>
    public long UnknownCgroup { get; init; }

    /// <summary>Distinct senders seen, when there were more than <see cref="DenialLearner.MaxScopes"/> (then <see cref="By"/> is empty).</summary>
    public int TooManySenders { get; init; }

    /// <summary>Denials this entry would have allowed.</summary>
    public long Count => Ports.Sum(p => p.Count);

    /// <summary>The first of them.</summary>
    public DateTimeOffset FirstSeen => Ports.Min(p => p.FirstSeen);

    /// <summary>The last of them.</summary>
    public DateTimeOffset LastSeen => Ports.Max(p => p.LastSeen);
}

/// <summary>Something denied that must NOT become an allow entry (e.g. DNS to a server that is not a named resolver, or a window entry's flow while it was closed).</summary>
/// <param name="Code">Stable code: <c>dns-to-non-resolver</c>, or <c>window-closed</c> (a window entry's flow while it was closed).</param>
/// <param name="Message">What was seen and why it is not suggested.</param>
/// <param name="Destination">The destination address.</param>
/// <param name="Port">The destination port, TCP or UDP.</param>
/// <param name="Count">Denials seen.</param>
/// <param name="FirstSeen">The first denial's time.</param>
/// <param name="LastSeen">The last denial's time.</param>
public sealed record LearnFinding(string Code, string Message, IPAddress Destination, SuggestedPort Port, long Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen)
{
    /// <summary>The allow entry the finding is about: the window entry of a <c>window-closed</c> finding; else null.</summary>
    public string? Entry { get; init; }
}

/// <summary>What <see cref="DenialLearner"/> concluded from the denials it saw.</summary>
/// <param name="Entries">Suggested new allow entries, by first denial.</param>
/// <param name="Findings">Denials that are reported, never suggested.</param>
/// <param name="Observed">Records seen.</param>
/// <param name="Ignored">Records that cannot become an entry: not egress, not TCP/UDP, no destination or port (truncated).</param>
/// <param name="AlreadyAllowed">Records of flows the policy allows now (e.g. logged before a reload).</param>
public sealed record LearnReport(IReadOnlyList<SuggestedEntry> Entries, IReadOnlyList<LearnFinding> Findings, long Observed, long Ignored, long AlreadyAllowed);
