using System.CommandLine;
using System.Net.Sockets;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence probe [--policy FILE] tcp:HOST:PORT udp:HOST:PORT ...</c>: tries each flow from inside the
/// namespace and reports whether the firewall let it through; with a policy, also which entry decided.
/// The trying itself is <see cref="FlowProbe"/> (shared with apply's self-test).
/// </summary>
internal static class ProbeVerb
{
    public static Command Create()
    {
        var targets = new Argument<string[]>("flows") { Description = "flows to try, as tcp:HOST:PORT or udp:HOST:PORT ([v6] in brackets)", Arity = ArgumentArity.OneOrMore };
        var policy = new Option<string?>("--policy") { Description = "explain each result with this policy's entries" };
        var timeout = new Option<int>("--timeout-ms") { Description = "how long to wait for an answer", DefaultValueFactory = _ => 1000 };
        var command = new Command("probe", "try flows from inside the namespace and report allowed or denied, and why") { targets, policy, timeout };
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(async () =>
        {
            var compiled = parse.GetValue(policy) is { } path ? await PolicyFiles.CompileAsync(path, checkOwnership: false, cancellationToken) : null;
            string? nsPath = FlowProbe.NamespacePath(parse.GetValue(CommonOptions.NetworkNamespace));
            foreach (string target in parse.GetValue(targets)!)
            {
                if (!target.StartsWith("tcp:", StringComparison.Ordinal) && !target.StartsWith("udp:", StringComparison.Ordinal))
                    throw new ArgumentException($"'{target}' is not a flow; write tcp:203.0.113.50:443 or udp:[2001:db8::53]:53");
                var flow = ExpectedFlow.Parse(target);
                var result = await FlowProbe.TryAsync(nsPath, flow, parse.GetValue(timeout), cancellationToken);
                string why = compiled is null ? "" : " -- policy: " + FlowExplainer.Explain(compiled, flow.Protocol, flow.Address, flow.Port).Reason;
                Console.WriteLine($"{target,-28} {(result.Passed ? "ALLOWED" : "DENIED "),-8} ({result.Outcome}){why}");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
