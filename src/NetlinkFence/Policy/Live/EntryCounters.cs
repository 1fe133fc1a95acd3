namespace NetlinkFence.Policy;

/// <summary>
/// What one allow entry let through: the sum of the per-element counters of the allow-set elements whose comment is
/// the entry (an element several entries share counts for the first of them in policy order, the one its comment names).
/// </summary>
/// <param name="Entry">The entry (with its location in the policy file).</param>
/// <param name="Input">True for an <c>input.allow</c> entry, false for <c>egress.allow</c>.</param>
/// <param name="Packets">Packets matched.</param>
/// <param name="Bytes">Bytes matched.</param>
public sealed record EntryCounters(AllowEntry Entry, bool Input, ulong Packets, ulong Bytes)
{
    /// <summary>
    /// How many allow-set elements let the entry's traffic through now (an element it shares with other entries counts
    /// for each of them). 0: the entry allows nothing at this moment: a closed window, or DNS names whose addresses all
    /// expired (the names stopped resolving for longer than TTL + grace). An element shared by more entries than its
    /// 256 bytes of userdata can name counts only for those it names.
    /// </summary>
    public int Elements { get; init; }
}
