namespace NetlinkFence.Policy;

/// <summary>
/// The policy's <c>selftest:</c>: flows that must get through (<see cref="Allow"/>) and flows that must be
/// dropped (<see cref="Deny"/>) right after an apply; otherwise the previous table is restored.
/// </summary>
/// <param name="Allow">Flows the firewall must let through (e.g. the control plane).</param>
/// <param name="Deny">Flows the firewall must drop (e.g. a port that must stay closed).</param>
public sealed record SelfTest(IReadOnlyList<ExpectedFlow> Allow, IReadOnlyList<ExpectedFlow> Deny)
{
    /// <summary>No expectations.</summary>
    public static SelfTest None { get; } = new([], []);

    /// <summary>Whether there is nothing to test.</summary>
    public bool IsEmpty => Allow.Count == 0 && Deny.Count == 0;

    /// <summary>Both lists merged with <paramref name="other"/>'s.</summary>
    public SelfTest Merge(SelfTest other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new SelfTest([.. Allow, .. other.Allow], [.. Deny, .. other.Deny]);
    }

    /// <inheritdoc />
    public bool Equals(SelfTest? other) => other is not null && Allow.SequenceEqual(other.Allow) && Deny.SequenceEqual(other.Deny);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Allow.Count, Deny.Count);
}
