using System.Net;
using System.Net.Sockets;

namespace NetlinkFence.Policy;

/// <summary>
/// The lint finding <c>selftest-fails</c>: a <c>selftest:</c> flow the policy itself decides the other way. An
/// <c>allow</c> flow no permanent entry allows (none at all, or only a window entry, which every apply leaves closed),
/// or a <c>deny</c> flow a permanent entry without <c>by:</c> allows. Every apply of such a policy fails its self-test
/// (exit 5), on every host of a fleet: after the commit, putting the previous table back, or, for a deny flow the policy
/// lets through, before it. Only what is known without DNS
/// decides (addresses, networks, <c>hosts:</c> pins); a flow a DNS name or a <c>by:</c> entry could decide is not reported.
/// </summary>
internal static class SelfTestCoverage
{
    private enum Decision { Allowed, WindowOnly, Denied, Unknown }

    /// <param name="policy">The policy.</param>
    /// <param name="hostAddresses">The addresses of the host (or namespace) the self-test runs on: traffic to them goes over
    /// loopback, which every policy allows.</param>
    public static IEnumerable<PolicyDiagnostic> Findings(EgressPolicy policy, IReadOnlyCollection<IPAddress> hostAddresses)
    {
        foreach (var written in policy.SelfTest.Written)
        {
            // One finding per written flow: a name's addresses tell the same story, the first one found is enough.
            foreach (var flow in KnownFlows(policy, written.Text))
            {
                var (decision, entry, why) = Decide(policy, flow, hostAddresses);
                string what = $"selftest.{(written.MustPass ? "allow" : "deny")} '{written.Text}'"
                    + (ExpectedFlow.TryParse(written.Text, out _) ? "" : $" ({flow.Address})");
                string outcome = written.MustPass
                    ? "every apply of this policy fails its self-test and puts the previous table back (exit 5)"
                    : "every apply of this policy fails its self-test before the commit (exit 5)";
                PolicyDiagnostic? finding = (written.MustPass, decision) switch
                {
                    (true, Decision.WindowOnly) => Finding(written, $"{what}: only window entry '{entry!.Name}' at {entry.Location} allows it, and apply leaves windows closed: {outcome}",
                        "try it with 'netlinkfence probe' while the window is open instead, or make the entry permanent"),
                    (true, Decision.Denied) => Finding(written, $"{what}: {why}: {outcome}", "allow it in an entry, or correct the flow's address, protocol or port"),
                    (false, Decision.Allowed) => Finding(written, $"{what}: {why}: {outcome}", "drop the flow from selftest.deny, or narrow what allows it"),
                    _ => null,
                };
                if (finding is not null)
                {
                    yield return finding;
                    break;
                }
            }
        }
    }

    private static PolicyDiagnostic Finding(WrittenFlow written, string message, string fix) =>
        new(Severity.Error, written.Location, message, fix, "selftest-fails");

    /// <summary>The flow, or one per pinned address of the name it is written with; nothing for a name DNS resolves.</summary>
    private static IEnumerable<ExpectedFlow> KnownFlows(EgressPolicy policy, string text)
    {
        if (ExpectedFlow.Problem(text, out var flow, out var named) is null)
            return [flow];
        return named is { } n && policy.Hosts.TryGetValue(n.Host, out var pinned)
            ? pinned.Select(address => new ExpectedFlow(n.Protocol, address, n.Port))
            : [];
    }

    private static (Decision Decision, AllowEntry? Entry, string Why) Decide(EgressPolicy policy, ExpectedFlow flow, IReadOnlyCollection<IPAddress> hostAddresses)
    {
        string proto = flow.Protocol == ProtocolType.Tcp ? "tcp" : "udp";
        if (IPAddress.IsLoopback(flow.Address))
            return (Decision.Allowed, null, "loopback traffic is always allowed");
        if (hostAddresses.Contains(flow.Address))
            return (Decision.Allowed, null, FlowExplainer.OwnAddress(flow.Address));
        if (flow.Port == 53 && policy.Resolvers.Any(r => r.HoldsWithoutDns(flow.Address, policy.Hosts)))
            return (Decision.Allowed, null, $"{flow.Address} is a resolver of egress.dns, and DNS to it is allowed");
        AllowEntry? window = null;
        bool undecided = false;
        foreach (var entry in policy.Egress)
        {
            if (!(flow.Protocol == ProtocolType.Tcp ? entry.Tcp : entry.Udp).Any(r => r.Contains(flow.Port)))
                continue;
            if (entry.Peers.Any(p => p.HoldsWithoutDns(flow.Address, policy.Hosts)))
            {
                if (entry.Window is null && entry.By.Count == 0)
                    return (Decision.Allowed, entry, $"entry '{entry.Name}' at {entry.Location} allows it");
                if (entry.Window is not null)
                    window ??= entry;
                else
                    undecided = true; // by: the probing process may or may not be one the entry names
            }
            undecided |= entry.Peers.Any(p => p.HostName is { } host && !policy.Hosts.ContainsKey(host));
        }
        return undecided ? (Decision.Unknown, null, "")
            : window is not null ? (Decision.WindowOnly, window, "")
            : (Decision.Denied, null, $"no permanent entry allows {proto}/{flow.Port} to {flow.Address}");
    }
}
