using System.Text;

namespace NetlinkFence.Nftables.Monitoring;

/// <summary>
/// One ruleset change seen by <see cref="NftablesMonitor"/>, decoded into the object model. Which object property is
/// set depends on <see cref="Kind"/>; the others are null.
/// </summary>
public sealed class NftablesChange
{
    internal NftablesChange(NftablesChangeKind kind, NftFamily family, uint portId, ushort messageType)
    {
        Kind = kind;
        Family = family;
        PortId = portId;
        MessageType = messageType;
    }

    /// <summary>What changed.</summary>
    public NftablesChangeKind Kind { get; }

    /// <summary>The address family of the changed object (nfgenmsg.nfgen_family); 0 for <see cref="NftablesChangeKind.Lost"/>.</summary>
    public NftFamily Family { get; }

    /// <summary>
    /// The netlink port id of the socket that made the change (the notification's nlmsg_pid); 0 for the kernel itself.
    /// </summary>
    public uint PortId { get; }

    /// <summary>
    /// The generation id the commit that made this change produced. Null only when its <see cref="NftablesChangeKind.Committed"/>
    /// notification never arrived (lost in an overflow).
    /// </summary>
    public uint? Generation { get; internal set; }

    /// <summary>The process id of the committer, as the kernel reported it in <c>NFTA_GEN_PROC_PID</c>; null when unknown.</summary>
    public int? ProcessId { get; internal set; }

    /// <summary>The committer's command name (<c>NFTA_GEN_PROC_NAME</c>, e.g. <c>nft</c>); null when unknown.</summary>
    public string? ProcessName { get; internal set; }

    /// <summary>The table: for table events, its definition; else the name of the table the object lives in.</summary>
    public string? TableName { get; internal init; }

    /// <summary>The table added or deleted.</summary>
    public Table? Table { get; internal init; }

    /// <summary>The chain added or deleted.</summary>
    public Chain? Chain { get; internal init; }

    /// <summary>The rule added or deleted, with its handle and expressions.</summary>
    public Rule? Rule { get; internal init; }

    /// <summary>
    /// The set added, or deleted when the kernel described it whole; null for a deletion that names only the set
    /// (Linux 6.x sends just table, name and handle): <see cref="SetName"/> is always there.
    /// </summary>
    public NftSet? Set { get; internal init; }

    /// <summary>For set and element events: the name of the set.</summary>
    public string? SetName { get; internal init; }

    /// <summary>For element events: the elements added or removed.</summary>
    public IReadOnlyList<SetElement>? Elements { get; internal init; }

    /// <summary>The netlink message type of the notification (subsystem in the high byte, nf_tables message in the low byte).</summary>
    public ushort MessageType { get; }

    /// <summary>
    /// For <see cref="NftablesChangeKind.Unknown"/>: the message payload (nfgenmsg and attributes) as received, or the rest
    /// of the datagram when a lying length kept it from being split into messages.
    /// </summary>
    public ReadOnlyMemory<byte> RawPayload { get; internal init; }

    /// <summary>For <see cref="NftablesChangeKind.Unknown"/>: why it could not be decoded; null when the type is simply not modelled.</summary>
    public string? Error { get; internal init; }

    /// <summary>For <see cref="NftablesChangeKind.Lost"/>: how many overflows the kernel reported (each dropped one or more notifications).</summary>
    public long LostCount { get; internal init; }

    /// <summary>A one-line description, e.g. <c>RuleAdded inet demo output handle 4 (gen 7, port 123, nft[4711])</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Kind.ToString());
        string family = Family.ToNftName();
        switch (Kind)
        {
            case NftablesChangeKind.Lost:
                return $"Lost: the receive queue overflowed {LostCount} time(s); notifications were lost, re-read the ruleset";
            case NftablesChangeKind.Committed:
                return $"Committed generation {Generation} by {ProcessName ?? "?"}[{ProcessId?.ToString() ?? "?"}] (port {PortId})";
            case NftablesChangeKind.Unknown:
                text.Append($" message 0x{MessageType:x4}, {RawPayload.Length} bytes");
                if (Error is not null)
                    text.Append($": {Error}");
                break;
            default:
                text.Append($" {family} {TableName}");
                if (Chain is { } chain)
                    text.Append($" {chain.Name}");
                if (Rule is { } rule)
                    text.Append($" {rule.Chain} handle {rule.Handle}");
                if (SetName is not null)
                    text.Append($" {SetName}");
                if (Elements is not null)
                    text.Append($" ({Elements.Count} elements)");
                break;
        }
        text.Append($" (gen {Generation?.ToString() ?? "?"}, port {PortId}");
        if (ProcessName is not null)
            text.Append($", {ProcessName}[{ProcessId}]");
        return text.Append(')').ToString();
    }
}
