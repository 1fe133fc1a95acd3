namespace NetlinkFence.Policy;

/// <summary>
/// A running policy cannot be changed as asked: its table is missing or is not this policy's (apply it first), or other
/// writers changed the table during both attempts of a change (nothing of the change was applied).
/// </summary>
public sealed class LivePolicyException : NetlinkFenceException
{
    internal LivePolicyException(string message, Exception? innerException = null)
        : base(message, errno: null, innerException)
    {
    }
}
