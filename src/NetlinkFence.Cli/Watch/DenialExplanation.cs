using NetlinkFence.Logging.Syslog;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli.Watch;

/// <summary>Why the policy denied a packet, in <c>probe</c>'s words, and the destination's name when the policy knows one.</summary>
/// <param name="Reason">e.g. "no entry allows 198.51.100.7", "203.0.113.50 is allowed, but not tcp/8443", "DNS to a non-resolver".</param>
/// <param name="DestinationName">A <c>hosts:</c> pin or a resolved name whose address the packet went to, else null.</param>
/// <param name="Entry">The allow entry the denial is about (its address is allowed, not this port), else null.</param>
internal sealed record DenialExplanation(string Reason, string? DestinationName, AllowEntry? Entry = null)
{
    /// <summary>What the collector is sent with the record (<c>watch --forward</c> and the daemon): reason, entry, its file:line:column, the name.</summary>
    public DenialContext ToContext() => new(Reason, Entry?.Name, Entry?.Location.ToString(), DestinationName);
}
