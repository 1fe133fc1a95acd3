namespace NetlinkFence.Policy;

/// <summary>One window entry of a running policy and how long it stays open.</summary>
/// <param name="Entry">The entry (its <see cref="AllowEntry.Window"/> is the longest it may be opened for).</param>
/// <param name="Remaining">Time left before the kernel closes it, from the elements' own expirations; null: closed.</param>
public sealed record LiveWindow(AllowEntry Entry, TimeSpan? Remaining)
{
    /// <summary>True while the kernel lets the entry's traffic through.</summary>
    public bool IsOpen => Remaining is not null;

    /// <summary>
    /// The other entries (permanent ones, windows open now, followed names) whose elements let part of this entry's
    /// traffic through, by name: while this window is closed, that part still passes. Empty when none does.
    /// </summary>
    public IReadOnlyList<string> AlsoAllowedBy { get; init; } = [];
}
