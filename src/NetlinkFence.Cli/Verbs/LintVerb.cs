using System.CommandLine;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary><c>netlinkfence lint POLICY</c>: security findings with severity and location; exit 1 when there are warnings or errors.</summary>
internal static class LintVerb
{
    public static Command Create()
    {
        var policyArgument = new Argument<string>("policy") { Description = "the policy file (YAML)" };
        var command = new Command("lint", "report weaknesses in a policy (DNS to any, 0.0.0.0/0, no log prefix, wide port ranges, ...)") { policyArgument }.WithOutput();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, () =>
        {
            string path = parse.GetValue(policyArgument)!;
            var findings = PolicyLinter.Lint(PolicyLoader.LoadFile(path), ServiceHosts.Create().Services(), HostAddresses.Of(parse.GetValue(CommonOptions.NetworkNamespace)));
            if (parse.GetValue(CommonOptions.Output) == "json")
            {
                Output.WriteJson(w =>
                {
                    w.WriteStartArray("findings");
                    foreach (var finding in findings)
                        Output.WriteDiagnostic(w, finding);
                    w.WriteEndArray();
                });
            }
            else
            {
                foreach (var finding in findings)
                    Console.WriteLine($"{finding} [{finding.Code}]");
                Console.WriteLine(findings.Count == 0 ? $"{path}: no findings" : $"{path}: {findings.Count} finding(s)");
            }
            bool serious = findings.Any(f => f.Severity != Severity.Info);
            return Task.FromResult(serious ? ExitCodes.DriftOrFindings : ExitCodes.Ok);
        }));
        return command;
    }
}
