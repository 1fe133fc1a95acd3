using System.CommandLine;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary><c>netlinkfence apply POLICY</c>: one atomic commit of the compiled policy, verified by reading it back.</summary>
internal static class ApplyVerb
{
    public static Command Create()
    {
        var policyArgument = new Argument<string>("policy") { Description = "the policy file (YAML)" };
        var retries = new Option<int>("--retry") { Description = "re-read and re-apply up to N times when another writer changed the ruleset meanwhile", DefaultValueFactory = _ => 0 };
        var command = new Command("apply", "replace the netlinkfence table with the compiled policy in one atomic transaction") { policyArgument, retries };
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(async () =>
        {
            string path = parse.GetValue(policyArgument)!;
            var compiled = await PolicyFiles.CompileAsync(path, checkOwnership: true, cancellationToken);
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = parse.GetValue(CommonOptions.NetworkNamespace) }, cancellationToken);
            var result = await PolicyApplier.ApplyAsync(nft, compiled, parse.GetValue(retries), Rendering.Rule, cancellationToken);
            var output = new Output(parse.GetValue(CommonOptions.Output) == "json");
            output.Applied(compiled, result);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
