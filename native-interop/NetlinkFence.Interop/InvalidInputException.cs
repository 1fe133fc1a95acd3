namespace NetlinkFence;

/// <summary>
/// A value given as text, typically by a user, does not name what it must: a network namespace name or path that is
/// empty, walks out of /run/netns or is not a network namespace file, or a flow such as <c>tcp:203.0.113.50:443</c>
/// that does not parse. The message says what is wrong and how to write it: fix the input, not the program.
/// </summary>
public sealed class InvalidInputException : NetlinkFenceException
{
    /// <summary>Creates the exception with a message that says what is wrong and how to write it.</summary>
    public InvalidInputException(string message) : base(message) { }
}
