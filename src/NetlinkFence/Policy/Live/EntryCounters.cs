namespace NetlinkFence.Policy;

/// <summary>
/// What one allow entry let through: the sum of the per-element counters of the allow-set elements whose comment is
/// the entry (an element several entries share counts for the first of them in policy order, the one its comment names).
/// </summary>
/// <param name="Entry">The entry (with its location in the policy file).</param>
/// <param name="Input">True for an <c>input.allow</c> entry, false for <c>egress.allow</c>.</param>
/// <param name="Packets">Packets matched.</param>
/// <param name="Bytes">Bytes matched.</param>
public sealed record EntryCounters(AllowEntry Entry, bool Input, ulong Packets, ulong Bytes);
