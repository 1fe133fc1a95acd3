namespace NetlinkFence.Policy;

/// <summary>A position in a policy file (1-based line and column), or in code for policies built with <see cref="PolicyBuilder"/>.</summary>
/// <param name="File">The file name, or a description such as <c>(builder)</c>.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
public sealed record SourceLocation(string File, int Line, int Column)
{
    /// <summary>Location for objects built in code.</summary>
    public static SourceLocation Code { get; } = new("(builder)", 0, 0);

    /// <summary><c>file:line:column</c>.</summary>
    public override string ToString() => Line == 0 ? File : $"{File}:{Line}:{Column}";
}
