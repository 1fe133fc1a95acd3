namespace NetlinkFence.Tests.Import.Differential;

/// <summary>Who starts a flow: the agent (its OUTPUT chain decides) or the world (the agent's INPUT chain decides).</summary>
public enum FlowDirection
{
    Outbound,
    Inbound,
}

/// <summary>What a flow sends and what counts as its reply.</summary>
public enum FlowProtocol
{
    /// <summary>A connection, allowed when the listener's greeting ("hello") arrives.</summary>
    Tcp,

    /// <summary>A datagram, allowed when the echo comes back.</summary>
    Udp,

    /// <summary>An ICMP / ICMPv6 echo request, allowed when the kernel's echo reply comes back.</summary>
    IcmpEcho,
}

/// <summary>One flow of the matrix: from <see cref="Source"/> (an address of the side that starts it) to
/// <see cref="Destination"/>:<see cref="Port"/> (no port for ICMP).</summary>
public sealed record Flow(FlowDirection Direction, FlowProtocol Protocol, string Source, string Destination, int Port)
{
    public bool IsV6 => Destination.Contains(':');

    public override string ToString()
    {
        string direction = Direction == FlowDirection.Outbound ? "out" : "in ";
        string protocol = Protocol switch { FlowProtocol.Tcp => "tcp ", FlowProtocol.Udp => "udp ", _ => IsV6 ? "icmp6" : "icmp " };
        string destination = Protocol == FlowProtocol.IcmpEcho ? Destination : IsV6 ? $"[{Destination}]:{Port}" : $"{Destination}:{Port}";
        return $"{direction} {protocol} {Source} -> {destination}";
    }
}

/// <summary>What one flow got: <see cref="Allowed"/> only when its reply came back; <see cref="Detail"/> says what
/// happened instead (no answer before the deadline, a refusal, EPERM from a local drop).</summary>
public sealed record FlowOutcome(bool Allowed, string Detail)
{
    public string Verdict => (Allowed ? "allowed" : "denied") + $" ({Detail})";
}
