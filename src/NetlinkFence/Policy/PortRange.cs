namespace NetlinkFence.Policy;

/// <summary>An inclusive port range; a single port has <see cref="First"/> == <see cref="Last"/>.</summary>
/// <param name="First">First port, 1..65535.</param>
/// <param name="Last">Last port, First..65535.</param>
public readonly record struct PortRange(ushort First, ushort Last)
{
    /// <summary>Number of ports covered.</summary>
    public int Count => Last - First + 1;

    /// <summary>Whether <paramref name="port"/> is in the range.</summary>
    internal bool Contains(ushort port) => First <= port && port <= Last;

    /// <summary>Whether the two ranges share a port.</summary>
    internal bool Overlaps(PortRange other) => First <= other.Last && other.First <= Last;

    /// <summary><c>443</c> or <c>1000-2000</c>.</summary>
    public override string ToString() => First == Last ? $"{First}" : $"{First}-{Last}";
}
