namespace NetlinkFence.Policy;

/// <summary>How serious a finding is.</summary>
public enum Severity
{
    /// <summary>Worth knowing.</summary>
    Info,
    /// <summary>Probably a mistake or a weakness.</summary>
    Warning,
    /// <summary>The policy cannot be applied.</summary>
    Error,
}

/// <summary>A problem found in a policy: where, what, and what would fix it.</summary>
/// <param name="Severity">How serious it is.</param>
/// <param name="Location">Where in the policy file.</param>
/// <param name="Message">What is wrong.</param>
/// <param name="Fix">What would fix it.</param>
/// <param name="Code">A stable identifier, e.g. <c>dns-to-any</c>, for suppressions and tests.</param>
public sealed record PolicyDiagnostic(Severity Severity, SourceLocation Location, string Message, string Fix, string Code)
{
    /// <summary><c>file:line:col: error: message (fix)</c>.</summary>
    public override string ToString() =>
        $"{Location}: {Severity.ToString().ToLowerInvariant()}: {Message}" + (Fix.Length == 0 ? "" : $"; {Fix}");
}
