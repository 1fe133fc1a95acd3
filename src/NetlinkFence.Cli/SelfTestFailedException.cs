namespace NetlinkFence.Cli;

/// <summary>
/// <c>apply</c>'s self-test failed (exit 5): before the commit (nothing changed), or after it, with the previous table put
/// back, or, when <see cref="PolicyStillLive"/>, not. Each of <see cref="Lines"/> is printed on its own line.
/// </summary>
internal sealed class SelfTestFailedException(IReadOnlyList<string> lines, bool policyStillLive = false) : Exception(string.Join("; ", lines))
{
    public IReadOnlyList<string> Lines { get; } = lines;

    /// <summary>Putting the previous table back failed too: the failed policy is live.</summary>
    public bool PolicyStillLive { get; } = policyStillLive;
}
