using System.CommandLine;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary><c>netlinkfence verify POLICY</c>: exit 0 when the live table is exactly what the policy compiles to, else 1 with a readable diff.</summary>
internal static class VerifyVerb
{
    public static Command Create()
    {
        var policyArgument = new Argument<string?>("policy") { Description = "the policy file (YAML); or --policy, default " + PolicyTable.DefaultPolicyPath, Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("verify", "exit 0 when the live table matches the policy, 1 with a diff when it does not") { policyArgument }.WithOutput();
        command.Options.Add(PolicyTable.Policy); // the policy names the table; --table would compare it with another table's rules
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            if (parse.GetValue(policyArgument) is { } positional && parse.GetValue(PolicyTable.Policy) is { } named && positional != named)
                throw new UsageException($"two policies: '{positional}' and --policy '{named}'; name one");
            string path = parse.GetValue(policyArgument) ?? PolicyTable.LoadPolicy(parse).Path;
            var compiled = await PolicyFiles.CompileAsync(path, checkOwnership: false, cancellationToken, parse.GetValue(CommonOptions.NetworkNamespace));
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = parse.GetValue(CommonOptions.NetworkNamespace) }, cancellationToken);
            var live = await nft.ListTableAsync(compiled.Table.Family, compiled.Table.Name, cancellationToken);
            var (differences, audit) = LiveComparison.Of(compiled, live);
            if (audit is not null)
                Console.Error.WriteLine("AUDIT: " + audit.Banner);
            if (parse.GetValue(CommonOptions.Output) == "json")
            {
                Output.WriteJson(w =>
                {
                    w.WriteBoolean("matches", differences.Count == 0);
                    // What the text says too, for fleet tooling: which table, against which file, at which generation.
                    w.WriteString("table", compiled.Table.Name);
                    w.WriteString("policy", path);
                    if (live is not null)
                        w.WriteNumber("generation", live.Generation);
                    else
                        w.WriteNull("generation");
                    // Which build wrote the live table (its comment; null when it names none) and which compared.
                    w.WriteString("applied_by", live?.Table.Comment);
                    w.WriteString("compiled_by", compiled.Table.Comment);
                    w.WriteNumber("rules", compiled.Rules.Count);
                    w.WriteNumber("set_elements", compiled.Sets.Sum(s => s.Elements.Count));
                    if (audit is not null)
                        Output.WriteAudit(w, audit);
                    w.WriteStartArray("differences");
                    foreach (var d in differences)
                    {
                        w.WriteStartObject();
                        w.WriteString("kind", d.Kind.ToString().ToLowerInvariant());
                        w.WriteString("subject", d.Subject);
                        w.WriteString("detail", d.Detail);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                });
            }
            else if (differences.Count == 0)
            {
                Console.WriteLine($"table inet {compiled.Table.Name} matches {path} ({Output.Count(compiled.Rules.Count, "rule")}, {Output.Count(compiled.Sets.Sum(s => s.Elements.Count), "set element")}, generation {live!.Generation})");
                if (audit is not null)
                    Console.WriteLine($"AUDIT: it is in audit mode{(audit.Remaining is { } r ? $" for {r.TotalSeconds:0}s more" : " without a timeout")}: what the policy denies is ACCEPTED (and logged) until then");
            }
            else
            {
                Console.WriteLine($"table inet {compiled.Table.Name} does NOT match {path}: {differences.Count} difference(s) (+ only in the live table, - only in the policy, ~ changed):");
                foreach (var d in differences)
                    Console.WriteLine("  " + d);
                if (TableBuild.OtherThanThis(compiled, live) is { } otherBuild)
                    Console.WriteLine(otherBuild);
                Console.WriteLine($"run `{SuggestedCommand.Of("apply", parse.GetValue(CommonOptions.NetworkNamespace), table: null, path)}` to restore the policy");
                if (audit is not null)
                    Console.WriteLine($"AUDIT: it is also in audit mode{(audit.Remaining is { } r ? $" for {r.TotalSeconds:0}s more" : " without a timeout")}: what the policy denies is ACCEPTED (and logged) until then");
            }
            return differences.Count == 0 ? ExitCodes.Ok : ExitCodes.DriftOrFindings;
        }));
        return command;
    }
}
