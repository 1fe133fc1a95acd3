using System.CommandLine;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence demo</c>: builds the seed discussion's egress policy in code (<see cref="DemoPolicy"/>, no policy
/// file), compiles and applies it with the library exactly as <c>apply</c> does (one atomic transaction, read back
/// and checked), and prints the table as the kernel lists it.
/// </summary>
internal static class DemoVerb
{
    public static Command Create()
    {
        var command = new Command("demo", "build the example egress policy in code, apply it with the library and read it back (use with --netns)") { CommonOptions.Table };
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            string name = parse.GetValue(CommonOptions.Table)!;
            var resolved = await ResolvedPolicy.ResolveAsync(DemoPolicy.Build(name), cancellationToken: cancellationToken);
            var compiled = PolicyCompiler.Compile(resolved);
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = parse.GetValue(CommonOptions.NetworkNamespace) }, cancellationToken);
            var result = await PolicyApplier.ApplyAsync(nft, compiled, cancellationToken: cancellationToken);
            var commit = result.Commit;
            Console.WriteLine($"committed in one batch ({commit.Messages} messages, {commit.Bytes} bytes) "
                + $"in {commit.Elapsed.TotalMilliseconds:0.00} ms; generation {commit.GenerationBefore} -> {commit.GenerationAfter}");
            // Committed is null only when another writer changed the table right after our commit: show what is there now.
            var contents = result.Committed ?? await nft.ListTableAsync(NftFamily.Inet, name, cancellationToken);
            if (contents is null)
            {
                Console.Error.WriteLine($"netlinkfence: another process deleted table inet {name} right after the commit");
                return ExitCodes.DriftOrFindings;
            }
            Console.Write(Rendering.Renderer.Render(contents));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
