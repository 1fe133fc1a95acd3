namespace NetlinkFence.Policy;

/// <summary>A policy could not be loaded or compiled; <see cref="Diagnostics"/> lists every error, not just the first.</summary>
public sealed class PolicyException : NetlinkFenceException
{
    /// <summary>Creates the exception from its diagnostics.</summary>
    public PolicyException(IReadOnlyList<PolicyDiagnostic> diagnostics)
        : base(string.Join(Environment.NewLine, diagnostics))
    {
        Diagnostics = diagnostics;
    }

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<PolicyDiagnostic> Diagnostics { get; }
}
