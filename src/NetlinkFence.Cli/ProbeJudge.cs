namespace NetlinkFence.Cli;

/// <summary>What a probe proves about a flow.</summary>
internal enum Verdict
{
    /// <summary>It got out (connected, answered, or refused by the peer).</summary>
    Allowed,

    /// <summary>A firewall dropped it, with evidence (see <see cref="ProbeJudge"/>).</summary>
    Denied,

    /// <summary>Neither is shown: no answer that a counter explains, or an error that is not the firewall.</summary>
    Inconclusive,

    /// <summary>The probe could not be made.</summary>
    NotRun,
}

/// <summary>
/// Turns what a socket saw (<see cref="ProbeResult"/>) and the rise of egress_denied's self-test counter (marked
/// probe packets only) during that probe into a <see cref="Verdict"/> with its evidence. Silence or EPERM is a deny
/// only when that counter rose: silence alone may be a host that does not answer or another table's drop, and other
/// packets the policy drops meanwhile are not this probe's. ENETUNREACH, EHOSTUNREACH and EACCES are routing, not the
/// firewall, unless that counter rose: then they are this policy's ICMP reject (<c>egress.deny: reject</c>).
/// </summary>
internal static class ProbeJudge
{
    /// <param name="result">What the socket saw.</param>
    /// <param name="denied">What egress_denied counted during the probe, or null when that is unknown.</param>
    /// <param name="counterProblem">Why <paramref name="denied"/> is unknown.</param>
    /// <param name="anyLocalFirewall">Whether EPERM alone counts as denied (by some local firewall, <c>probe</c>), rather
    /// than only a drop by this policy's egress_denied chain (the self-test).</param>
    public static (Verdict Verdict, string Evidence) Judge(ProbeResult result, DeniedDelta? denied, string? counterProblem, bool anyLocalFirewall)
    {
        switch (result.Signal)
        {
            case ProbeSignal.GotThrough:
                return (Verdict.Allowed, result.Outcome);
            case ProbeSignal.NotTheFirewall when result.Unmarked is null && denied?.Probes > 0:
                return (Verdict.Denied, $"{result.Outcome}: rejected by this policy, egress_denied probe count +{denied.Probes}");
            case ProbeSignal.NotTheFirewall:
                return (Verdict.Inconclusive, $"{result.Outcome}, not the firewall");
            case ProbeSignal.CouldNotRun:
                return (Verdict.NotRun, result.Outcome);
        }
        if (result.Unmarked is not null)
            (denied, counterProblem) = (null, result.Unmarked); // its packets cannot show in the self-test counter
        string evidence = denied is null
            ? $"{result.Outcome}, egress_denied probe count {counterProblem}"
            : $"{result.Outcome}, egress_denied probe count +{denied.Probes}" + (denied.Others > 0 ? $", +{denied.Others} other packets dropped meanwhile (not this probe's)" : "");
        bool proven = denied?.Probes > 0 || (anyLocalFirewall && result.Signal == ProbeSignal.LocalDrop);
        return (proven ? Verdict.Denied : Verdict.Inconclusive, evidence);
    }

    /// <summary>The verdict as printed: ALLOWED, DENIED, INCONCLUSIVE, NOT RUN.</summary>
    public static string Word(Verdict verdict) => verdict switch
    {
        Verdict.Allowed => "ALLOWED",
        Verdict.Denied => "DENIED",
        Verdict.Inconclusive => "INCONCLUSIVE",
        _ => "NOT RUN",
    };
}
