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

    /// <summary>
    /// Flows that must get through, written with a host name the policy uses (<c>tcp:api.example:443</c>): each stands
    /// for one flow to every address the name has when the policy is applied (<see cref="ForAddresses"/>), so a name
    /// that follows DNS needs no address written into the test.
    /// </summary>
    public IReadOnlyList<string> NamedAllow { get; init; } = [];

    /// <summary>Flows that must be dropped, written with a host name the policy uses, like <see cref="NamedAllow"/>.</summary>
    public IReadOnlyList<string> NamedDeny { get; init; } = [];

    /// <summary>The flows as the policy file or builder wrote them, with where (for <c>lint</c>); empty when merged or expanded.</summary>
    internal IReadOnlyList<WrittenFlow> Written { get; init; } = [];

    /// <summary>Whether there is nothing to test.</summary>
    public bool IsEmpty => Allow.Count == 0 && Deny.Count == 0 && NamedAllow.Count == 0 && NamedDeny.Count == 0;

    /// <summary>Both lists merged with <paramref name="other"/>'s.</summary>
    public SelfTest Merge(SelfTest other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new SelfTest([.. Allow, .. other.Allow], [.. Deny, .. other.Deny])
        {
            NamedAllow = [.. NamedAllow, .. other.NamedAllow],
            NamedDeny = [.. NamedDeny, .. other.NamedDeny],
        };
    }

    /// <summary>
    /// The flows to try against <paramref name="policy"/>: the named ones replaced by one flow per address their name
    /// has there. Throws <see cref="InvalidInputException"/> when a name has no address (a <c>resolve: lazy</c> name
    /// that did not resolve): what the test names cannot be tried, so nothing should be applied on its word.
    /// </summary>
    public SelfTest ForAddresses(ResolvedPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (NamedAllow.Count == 0 && NamedDeny.Count == 0)
            return this;
        return new SelfTest([.. Allow, .. Expand(NamedAllow, "allow")], [.. Deny, .. Expand(NamedDeny, "deny")]);

        IEnumerable<ExpectedFlow> Expand(IReadOnlyList<string> flows, string key)
        {
            foreach (string text in flows)
            {
                IReadOnlyList<ExpectedFlow> expanded;
                try
                {
                    expanded = ExpectedFlow.Parse(text, policy);
                }
                catch (InvalidInputException e)
                {
                    throw new InvalidInputException($"selftest.{key}: {e.Message}");
                }
                foreach (var flow in expanded)
                    yield return flow;
            }
        }
    }

    /// <inheritdoc />
    public bool Equals(SelfTest? other) => other is not null && Allow.SequenceEqual(other.Allow) && Deny.SequenceEqual(other.Deny)
        && NamedAllow.SequenceEqual(other.NamedAllow) && NamedDeny.SequenceEqual(other.NamedDeny);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Allow.Count, Deny.Count, NamedAllow.Count, NamedDeny.Count);
}

/// <summary>A self-test flow as written: its text, where, and whether it must get through (<c>allow</c>) or be dropped.</summary>
internal sealed record WrittenFlow(string Text, SourceLocation Location, bool MustPass);
