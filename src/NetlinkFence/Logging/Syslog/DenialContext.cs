namespace NetlinkFence.Logging.Syslog;

/// <summary>What the policy says about a denial, when the caller knows it (e.g. <c>watch --policy</c>): sent with the record.</summary>
/// <param name="Reason">Why it was denied, in <c>probe</c>'s words (e.g. <c>no entry allows 198.51.100.7</c>).</param>
/// <param name="Entry">The allow entry the destination belongs to (allowed address, other port), if any.</param>
/// <param name="Origin">Where in the policy the deciding entry or rule is (<c>file:line:column</c>).</param>
/// <param name="DestinationName">The destination's name (a <c>hosts:</c> pin or a resolved name), when the policy knows one.</param>
public sealed record DenialContext(string? Reason = null, string? Entry = null, string? Origin = null, string? DestinationName = null);
